import { hostname } from 'node:os';
import { loadConfig } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { restoreOrdersMonth } from '../lifecycle/orders-archive.ts';
import { terminalProgress } from '../lifecycle/progress.ts';
import { createArchiveStore } from '../lifecycle/store-factory.ts';
import { createInfra } from '../platform/infra.ts';
import { createLogger } from '../platform/logger.ts';
import { createServices } from '../services.ts';
import { opsJobs } from '../ops/ops.jobs.ts';
import { ALL_JOBS } from './lifecycle.jobs.ts';
import { JobScheduler } from './scheduler.ts';

/**
 * Data lifecycle jobs by hand (`npm run jobs -- ...`); see docs/operations.md, "Data lifecycle".
 * Exit status: 0 done, 1 failed, 2 usage, 3 another instance holds the job's lease.
 */
const USAGE = `usage: npm run jobs -- <command> [--dry-run]
  list                      the jobs, their schedule and last run
  <job> [--dry-run]         run one job now (under its lease); --dry-run changes nothing
  restore <YYYY-MM> [--dry-run]
                            load an archived month of orders back (verifies it first)
  archives [prefix]         list archive sets in the store (e.g. orders/2025-01)`;

const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const positional = args.filter((a) => !a.startsWith('--'));
const [command, arg] = positional;
if (!command || args.includes('--help')) {
  console.error(USAGE);
  process.exit(command ? 0 : 2);
}

const config = loadConfig();
const log = createLogger({ ...config, logLevel: process.env.LOG_LEVEL ?? 'warn' });
const infra = await createInfra(config, log);
const holder = `cli-${hostname()}-${process.pid}`;
// The CLI gets no dispatch service: a job run by hand must not start dispatch sweeps here.
const services = createServices(config, infra, log);
const scheduler = new JobScheduler({
  db: infra.db,
  leases: infra.kv.leases,
  holder,
  log,
  config,
  jobs: [
    ...ALL_JOBS,
    ...opsJobs({ geo: infra.kv.geo, orders: services.orders, publisher: services.publisher }),
  ],
});
const every = (ms: number) =>
  ms % 86_400_000 === 0
    ? `${ms / 86_400_000}d`
    : ms >= 3_600_000
      ? `${Math.round(ms / 3_600_000)}h`
      : ms >= 60_000
        ? `${Math.round(ms / 60_000)}m`
        : `${Math.round(ms / 1_000)}s`;
let code = 0;

try {
  await migrate(infra.db);
  if (infra.db.kind === 'pglite' && !dryRun && command !== 'list' && command !== 'archives') {
    console.error(
      'note: embedded database; make sure no server has it open (stop it first), or let the ' +
        "server's own schedule run the job",
    );
  }
  if (command === 'list') {
    const last = await scheduler.lastRuns();
    console.log(
      `archive store: ${(await createArchiveStore(config))?.location ?? 'none configured'}; ` +
        `scheduler ${config.jobs.enabled ? `on (tick ${config.jobs.tickMs} ms)` : 'off'}\n`,
    );
    for (const job of scheduler.jobs) {
      const run = last.get(job.name);
      const off = config.jobs.disabled.includes(job.name) ? ' (disabled)' : '';
      console.log(`${job.name.padEnd(20)} every ${every(job.everyMs).padEnd(4)}${off}`);
      console.log(`  ${job.description}`);
      console.log(
        run
          ? `  last: ${run.startedAt.toISOString()} ${run.status}${run.summary ? ` - ${run.summary}` : ''}`
          : '  last: never',
      );
    }
  } else if (command === 'archives') {
    const store = await createArchiveStore(config);
    if (!store) throw new Error('no archive store configured (ARCHIVE_S3_BUCKET or ARCHIVE_DIR)');
    const objects = await store.list(arg ?? '');
    console.log(`${store.location}: ${objects.length} object(s)`);
    for (const o of objects) console.log(`${String(o.size).padStart(12)}  ${o.key}`);
  } else if (command === 'restore') {
    if (!arg) throw new Error('restore needs a month: npm run jobs -- restore 2025-01');
    const store = await createArchiveStore(config);
    if (!store) throw new Error('no archive store configured (ARCHIVE_S3_BUCKET or ARCHIVE_DIR)');
    const progress = terminalProgress();
    const r = await restoreOrdersMonth(infra.db, store, arg, { dryRun, progress });
    progress.end();
    console.log(
      `${dryRun ? 'dry run: archive verified, would restore' : 'restored'} ${r.month} into ${r.partition}` +
        ` (partition ${r.partitionExisted ? 'existed' : dryRun ? 'would be created' : 'created'}) from ${r.sets.join(', ')}`,
    );
    for (const t of r.tables) {
      console.log(`  ${t.table}: ${t.archived} archived, ${t.inserted} inserted`);
    }
  } else {
    const progress = terminalProgress();
    const report = await scheduler.run(command, { dryRun, progress, force: true });
    progress.end();
    const head = `${command}${dryRun ? ' (dry run)' : ''}: ${report.status}`;
    if (report.status === 'busy') {
      console.error(`${head}: another instance is running it (lease job:${command})`);
      code = 3;
    } else {
      console.log(
        `${head} in ${report.durationMs} ms${report.summary ? ` - ${report.summary}` : ''}`,
      );
      if (report.error) console.error(`error: ${report.error}`);
      if (report.details !== undefined) console.log(JSON.stringify(report.details, null, 2));
      if (report.status === 'failed') code = 1;
    }
  }
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  code = 1;
} finally {
  await infra.close();
}
process.exit(code);
