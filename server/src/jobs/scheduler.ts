import type { Logger } from 'pino';
import type { LeaseManager } from '../adapters/ports.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { ProgressFn } from '../lifecycle/archive.ts';
import { createArchiveStore } from '../lifecycle/store-factory.ts';
import type { ObjectStore } from '../lifecycle/store.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { Job, JobContext } from './job.ts';
import { ALL_JOBS } from './lifecycle.jobs.ts';

/**
 * Runs periodic jobs inside the server. Each job runs under its own lease (`job:<name>`), so
 * only one instance runs it at a time, and each run is recorded in `job_runs`, which is also
 * how every instance knows when a job is due again: the schedule survives restarts and does not
 * depend on which instance happens to be up. The lease is renewed while a job runs; losing it
 * (or a shutdown) stops the job at its next checkpoint, before any destructive step.
 */
const LEASE_MS = 60_000;
const MAX_RETRY_MS = 10 * 60_000;
const KEEP_RUNS_DAYS = 90;

export type RunStatus = 'succeeded' | 'failed' | 'busy' | 'not-due';

export interface RunReport {
  job: string;
  status: RunStatus;
  dryRun: boolean;
  summary?: string;
  details?: unknown;
  error?: string;
  durationMs: number;
}

export interface RunOptions {
  dryRun?: boolean;
  progress?: ProgressFn;
  /** Run even when not due (by hand); the lease is still required. */
  force?: boolean;
}

export interface SchedulerDeps {
  db: Db;
  leases: LeaseManager;
  holder: string;
  log: Logger;
  config: Config;
  jobs?: readonly Job[];
  /** The archive store; created on first use when absent. */
  store?: ObjectStore | null;
  clock?: Clock;
  leaseMs?: number;
}

export class JobScheduler {
  readonly jobs: readonly Job[];
  private readonly leaseMs: number;
  private readonly clock: Clock;
  private store: Promise<ObjectStore | null> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | null = null;
  private stopping = false;
  private warnedNoStore = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.jobs = deps.jobs ?? ALL_JOBS;
    this.leaseMs = deps.leaseMs ?? LEASE_MS;
    this.clock = deps.clock ?? systemClock;
    this.store = deps.store === undefined ? undefined : Promise.resolve(deps.store);
    for (const name of deps.config.jobs.disabled) {
      if (!this.jobs.some((j) => j.name === name))
        deps.log.warn({ job: name }, 'JOBS_DISABLED names an unknown job');
    }
  }

  start(tickMs: number): void {
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = this.tick()
        .catch((err: unknown) => this.deps.log.warn({ err }, 'job tick failed'))
        .finally(() => {
          this.ticking = null;
        });
    }, tickMs);
    this.timer.unref();
  }

  /** Stops scheduling; a running job stops at its next checkpoint and is waited for. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping = true;
    await this.ticking;
  }

  private async getStore(): Promise<ObjectStore> {
    this.store ??= createArchiveStore(this.deps.config);
    const store = await this.store;
    if (!store) {
      throw new Error(
        'no archive store: set ARCHIVE_S3_BUCKET or ARCHIVE_DIR (DATA_DIR=memory has no default)',
      );
    }
    return store;
  }

  /** False (logged once) when no archive store is configured, e.g. DATA_DIR=memory. */
  private async hasStore(): Promise<boolean> {
    this.store ??= createArchiveStore(this.deps.config);
    if (await this.store) return true;
    if (!this.warnedNoStore) {
      this.warnedNoStore = true;
      this.deps.log.warn(
        { jobs: this.jobs.filter((j) => j.needsStore).map((j) => j.name) },
        'no archive store (ARCHIVE_S3_BUCKET or ARCHIVE_DIR): archival and retention jobs are not scheduled',
      );
    }
    return false;
  }

  find(name: string): Job {
    const job = this.jobs.find((j) => j.name === name);
    if (!job)
      throw new Error(`unknown job ${name}; known: ${this.jobs.map((j) => j.name).join(', ')}`);
    return job;
  }

  /** Due: no successful run within its interval, and no attempt at all within the retry delay. */
  async isDue(job: Job): Promise<boolean> {
    const { rows } = await this.deps.db.query<{ due: boolean }>(
      `SELECT (max(started_at) FILTER (WHERE status = 'succeeded') IS NULL
               OR max(started_at) FILTER (WHERE status = 'succeeded')
                    <= now() - $2::double precision * interval '1 millisecond')
          AND (max(started_at) IS NULL
               OR max(started_at) <= now() - $3::double precision * interval '1 millisecond') AS due
         FROM job_runs WHERE job = $1`,
      [job.name, job.everyMs, Math.min(job.everyMs, MAX_RETRY_MS)],
    );
    return rows[0]?.due ?? true;
  }

  /** One pass: runs every enabled job that is due, one after the other. */
  async tick(): Promise<RunReport[]> {
    const reports: RunReport[] = [];
    for (const job of this.jobs) {
      if (this.stopping) break;
      if (this.deps.config.jobs.disabled.includes(job.name)) continue;
      if (job.needsStore && !(await this.hasStore())) continue;
      if (!(await this.isDue(job))) continue;
      const report = await this.run(job.name);
      if (report.status === 'succeeded' || report.status === 'failed') {
        this.deps.log[report.status === 'failed' ? 'warn' : 'info'](
          { job: job.name, summary: report.summary, error: report.error, ms: report.durationMs },
          `job ${job.name} ${report.status}`,
        );
      }
      reports.push(report);
    }
    return reports;
  }

  /** Runs one job now: under its lease and recorded, or as a dry run (neither). */
  async run(name: string, opts: RunOptions = {}): Promise<RunReport> {
    const job = this.find(name);
    const started = this.clock.now();
    const dryRun = Boolean(opts.dryRun);
    const report = (status: RunStatus, extra: Partial<RunReport> = {}): RunReport => ({
      job: name,
      status,
      dryRun,
      durationMs: this.clock.now() - started,
      ...extra,
    });
    let lost = false;
    const ctx: JobContext = {
      db: this.deps.db,
      config: this.deps.config,
      log: this.deps.log.child({ job: name }),
      store: () => this.getStore(),
      dryRun,
      now: this.clock.now(),
      progress: opts.progress,
      checkpoint: async () => {
        if (lost) throw new Error(`lease job:${name} lost; stopping`);
        if (this.stopping) throw new Error('shutting down; stopping');
      },
    };

    if (dryRun) {
      try {
        const result = await job.run(ctx);
        return report(result.failed ? 'failed' : 'succeeded', {
          summary: result.summary,
          details: result.details,
        });
      } catch (err) {
        return report('failed', { error: (err as Error).message });
      }
    }

    const lease = `job:${name}`;
    const { leases, holder, db, log } = this.deps;
    if (!(await leases.acquire(lease, holder, this.leaseMs))) return report('busy');
    const renew = setInterval(
      () => {
        leases.acquire(lease, holder, this.leaseMs).then(
          (ok) => {
            if (!ok) lost = true;
          },
          (err: unknown) => {
            lost = true;
            log.warn({ err, job: name }, 'job lease renewal failed');
          },
        );
      },
      Math.max(Math.floor(this.leaseMs / 3), 10),
    );
    renew.unref();
    try {
      if (!opts.force && !(await this.isDue(job))) return report('not-due');
      const { rows } = await db.query<{ id: number }>(
        'INSERT INTO job_runs (job, holder) VALUES ($1, $2) RETURNING id',
        [name, holder],
      );
      const runId = rows[0]!.id;
      let result: RunReport;
      try {
        const r = await job.run(ctx);
        result = report(r.failed ? 'failed' : 'succeeded', {
          summary: r.summary,
          details: r.details,
        });
      } catch (err) {
        result = report('failed', { error: (err as Error).message });
      }
      await db
        .query(
          `UPDATE job_runs SET status = $2, finished_at = now(), summary = $3, details = $4, error = $5
            WHERE id = $1`,
          [
            runId,
            result.status,
            result.summary ?? null,
            result.details === undefined ? null : JSON.stringify(result.details),
            result.error ?? null,
          ],
        )
        .catch((err: unknown) => log.warn({ err, job: name }, 'could not record the job run'));
      await db
        .query(
          `DELETE FROM job_runs WHERE job = $1 AND started_at < now() - make_interval(days => $2)`,
          [name, KEEP_RUNS_DAYS],
        )
        .catch(() => undefined);
      return result;
    } finally {
      clearInterval(renew);
      await leases.release(lease, holder).catch(() => undefined);
    }
  }

  /** The last runs of each job, newest first (for `npm run jobs -- list`). */
  async lastRuns(): Promise<
    Map<string, { status: string; startedAt: Date; summary: string | null }>
  > {
    const { rows } = await this.deps.db.query<{
      job: string;
      status: string;
      started_at: Date;
      summary: string | null;
    }>(
      `SELECT DISTINCT ON (job) job, status, started_at, summary FROM job_runs
        ORDER BY job, started_at DESC`,
    );
    return new Map(
      rows.map((r) => [
        r.job,
        { status: r.status, startedAt: new Date(r.started_at), summary: r.summary },
      ]),
    );
  }
}

/** The scheduler of a server process, ticking when JOBS_ENABLED (not under NODE_ENV=test). */
export function startJobScheduler(
  config: Config,
  infra: { db: Db; kv: { leases: LeaseManager }; clock?: Clock },
  log: Logger,
  extraJobs: readonly Job[] = [],
): JobScheduler {
  const scheduler = new JobScheduler({
    db: infra.db,
    leases: infra.kv.leases,
    holder: config.instanceId,
    log,
    config,
    jobs: [...ALL_JOBS, ...extraJobs],
  });
  if (config.jobs.enabled) {
    if (config.databaseUrl && !config.archive.s3) {
      log.warn(
        { dir: config.archive.dir },
        'archives go to a local folder; with several servers set ARCHIVE_S3_BUCKET',
      );
    }
    scheduler.start(config.jobs.tickMs);
  }
  return scheduler;
}
