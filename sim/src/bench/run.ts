/**
 * `npm run bench -- --scenario ingest|orders|fanout [options]` (through bench/bench.sh, which
 * raises the open-file limit). Starts its own server(s) on embedded storage or, with `--real`,
 * on a database and Redis key prefix of its own (DATABASE_URL / REDIS_URL name the servers),
 * provisions a fleet, drives it from load-generator processes, samples the servers' CPU and
 * memory, and writes JSON + Markdown to bench/results/ and the latest figures to
 * docs/benchmarks.md. Everything it created is removed at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { FleetFile } from '../accounts.ts';
import { HOLDS, type Hold } from '../http.ts';
import {
  decodeHistogram,
  newHistogram,
  summarize,
  type Histogram,
  type LatencySummary,
} from '../stats.ts';
// The server's own reading of its settings, so the pool sizing follows its defaults.
import { loadConfig } from '../../../server/src/config.ts';
import { startAutovacuumStandIn, type StandInSummary } from './autovacuum.ts';
import { measureTransportFloor, type TransportFloor } from './floor.ts';
import { describeMachine, SERVER_NODE_FLAGS, type Machine } from './machine.ts';
import type {
  FromWorker,
  InitMessage,
  LoopDelay,
  ReporterClient,
  WorkerResult,
  WorkerRole,
} from './protocol.ts';
import { pidsByName, ResourceSampler, type GroupUsage } from './sampler.ts';
import { summarizeServerLogs, type ServerLogSummary } from './server-log.ts';
import { renderMarkdown, updateDocs, writeFormatted } from './report.ts';
import { bucketQuantiles, countsInWindow, parseScrape, type ServerScrape } from './scrape.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const log = (line: string) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

type Scenario = 'ingest' | 'orders' | 'fanout';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    scenario: { type: 'string' },
    drivers: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    target: { type: 'string' },
    processes: { type: 'string', default: '1' },
    workers: { type: 'string' },
    real: { type: 'boolean', default: false },
    customers: { type: 'string' },
    merchants: { type: 'string' },
    orders: { type: 'string' },
    'time-scale': { type: 'string' },
    accept: { type: 'string' },
    drain: { type: 'string' },
    warmup: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'server-flags': { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    tokens: { type: 'string' },
    label: { type: 'string' },
    client: { type: 'string', default: 'lean' },
    hold: { type: 'string', default: 'client' },
  },
});

const scenario = values.scenario as Scenario;
if (!['ingest', 'orders', 'fanout'].includes(scenario)) {
  console.error(
    'usage: npm run bench -- --scenario ingest|orders|fanout [--drivers N --duration S --rate R --target URL --processes 1|2 --real --client lean|ws]',
  );
  process.exit(2);
}
const client = values.client as ReporterClient;
if (!['lean', 'ws'].includes(client)) {
  console.error(`--client must be lean or ws, not ${client}`);
  process.exit(2);
}
const hold = values.hold as Hold;
if (!HOLDS.includes(hold)) {
  console.error(`--hold must be ${HOLDS.join(' or ')}, not ${hold}`);
  process.exit(2);
}
const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
const DEFAULTS = {
  ingest: { drivers: 30_000, duration: 60 },
  orders: { drivers: 8_000, duration: 300 },
  fanout: { drivers: 10_000, duration: 60 },
}[scenario];
const drivers = num(values.drivers, DEFAULTS.drivers);
const durationS = num(values.duration, DEFAULTS.duration);
const processes = num(values.processes, 1);
const real = values.real;
const external = values.target;
const area = { lat: 49.4075, lng: 8.6925, radiusKm: 4 };
const runId = randomBytes(4).toString('hex');
const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles');
/** The servers' own output (warnings and errors), one file per process; not committed. */
const LOG_DIR = join(ROOT, 'bench', 'results', 'logs');
const ordersRate = scenario === 'orders' ? num(values.rate, 35) : 0;
/** Simulated seconds per real second in `orders`: kitchens, waits and rides run this much faster. */
const timeScale = scenario === 'orders' ? num(values['time-scale'], 10) : 1;
const tracked = scenario === 'fanout' ? num(values.orders, 300) : 0;
const customers = num(values.customers, scenario === 'orders' ? 3_000 : tracked);
const merchants = num(
  values.merchants,
  scenario === 'orders' ? 300 : scenario === 'fanout' ? 50 : 0,
);
// Ingest: one report per driver every 3 s, unless --rate asks for another total rate.
const locationEveryMs =
  scenario === 'ingest' && values.rate ? Math.round((drivers / Number(values.rate)) * 1000) : 3_000;
// One load-generator process per 3,750 drivers: with one per 7,500, a generator's own event
// loop was most of the measured ack tail (30,000 drivers at 10,000/s: p99 293 ms with 4
// generators, 129 ms with 8).
const reporterWorkers =
  scenario === 'orders' ? 0 : num(values.workers, Math.max(1, Math.ceil(drivers / 3_750)));

/** The open-file limit this process (and so every child) runs with. */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return Number(line?.trim().split(/\s+/)[3]) || Infinity;
  } catch {
    return Infinity;
  }
}
const fdLimit = openFileLimit();
if (!external && drivers / processes > fdLimit - 1_000) {
  console.warn(
    `warning: ${Math.ceil(drivers / processes)} sockets per server process, but a process may hold only ${fdLimit} open files here ` +
      '(raising the hard limit needs CAP_SYS_RESOURCE): expect refused connections; use --processes 2',
  );
}

if (!external && processes > 1 && !real) {
  console.error('--processes 2 needs --real: two processes cannot share an embedded database');
  process.exit(2);
}

interface Resources {
  servers: ChildProcess[];
  serverLogs: string[];
  /** Servers that exited before the bench stopped them, e.g. `p1 code 1`. */
  serverExits: string[];
  stoppingServers: boolean;
  cleanup: Array<() => Promise<void>>;
}
const res: Resources = {
  servers: [],
  serverLogs: [],
  serverExits: [],
  stoppingServers: false,
  cleanup: [],
};

async function cleanupAll(): Promise<void> {
  for (const fn of res.cleanup.reverse())
    await fn().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  res.cleanup = [];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function waitReady(url: string, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) return;
    } catch {
      // not yet
    }
    await sleep(500);
  }
  throw new Error(`${url} did not become ready`);
}

interface Setup {
  targets: string[];
  fleet: FleetFile;
  serverEnv: NodeJS.ProcessEnv;
  redisPrefix: string | null;
  databaseUrl: string | null;
  mode: string;
}

async function setup(): Promise<Setup> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    RATE_LIMIT_API: 'off',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    // A busy event loop makes every round trip hold its connection longer: give the pool room.
    // All processes together (API pool + the dispatch sweep's claimers + 1) stay under 90
    // connections, inside PostgreSQL's default max_connections of 100, which leaves room for
    // the benchmark's own. The caller's environment wins.
    DATABASE_POOL_SIZE:
      process.env.DATABASE_POOL_SIZE ??
      String(Math.floor(90 / processes) - (loadConfig(process.env).dispatch.concurrency + 1)),
    // A world ten times faster has drivers ten times faster: a car at 29 km/h moves 80 m/s of
    // real time, which the server's default limit of 70 m/s would reject as a GPS glitch, and a
    // driver whose every report is rejected goes stale and is never offered an order.
    LOCATION_MAX_SPEED_MPS: String(
      Math.min(1_000, loadConfig(process.env).location.maxSpeedMps * timeScale),
    ),
  };
  let databaseUrl: string | null = null;
  let redisPrefix: string | null = null;
  if (external) {
    if (!values.tokens)
      throw new Error(
        '--target needs --tokens FILE (npm run fleet -- provision ... against that deployment)',
      );
    const fleet = JSON.parse(await readFile(values.tokens, 'utf8')) as FleetFile;
    return {
      targets: [external.replace(/\/$/, '')],
      fleet,
      serverEnv: env,
      redisPrefix: null,
      databaseUrl: null,
      mode: `external ${external}`,
    };
  }
  if (real) {
    const adminUrl = process.env.DATABASE_URL;
    const redisUrl = process.env.REDIS_URL;
    if (!adminUrl || !redisUrl)
      throw new Error(
        '--real needs DATABASE_URL and REDIS_URL (a server to create a database of our own on)',
      );
    const name = `delivery_bench_${runId}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const own = new URL(adminUrl);
    own.pathname = `/${name}`;
    databaseUrl = own.toString();
    redisPrefix = `bench_${runId}:`;
    res.cleanup.push(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
      log(`dropped database ${name}`);
    });
    res.cleanup.push(async () => {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) n += await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
      log(`deleted ${n} Redis keys under ${redisPrefix}`);
    });
    env.DATABASE_URL = databaseUrl;
    env.REDIS_URL = redisUrl;
    env.REDIS_PREFIX = redisPrefix;
  } else {
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    const dir = await mkdtemp(join(tmpdir(), 'delivery-bench-'));
    env.DATA_DIR = dir;
    res.cleanup.push(() => rm(dir, { recursive: true, force: true }));
  }
  const tokensFile = join(tmpdir(), `delivery-bench-${runId}.json`);
  res.cleanup.push(() => rm(tokensFile, { force: true }));
  const out = await run(
    'node',
    [
      '--import',
      'tsx',
      'server/src/cli/fleet.ts',
      'provision',
      '--drivers',
      String(drivers + tracked),
      '--customers',
      String(customers),
      '--merchants',
      String(merchants),
      '--prefix',
      `b${runId}`,
      '--area',
      `${area.lat},${area.lng},${area.radiusKm}`,
      '--tokens-out',
      tokensFile,
    ],
    env,
  );
  log(out.trim());
  const fleet = JSON.parse(await readFile(tokensFile, 'utf8')) as FleetFile;

  const targets: string[] = [];
  if (values.profile) await mkdir(PROFILE_DIR, { recursive: true });
  await mkdir(LOG_DIR, { recursive: true });
  for (let i = 0; i < processes; i++) {
    const port = 3900 + Math.floor(Math.random() * 50) * 2 + i;
    const args = [
      // Default names (CPU.<date>.<pid>.<thread>...): tsx's loader thread writes one too.
      ...(values.profile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, `${scenario}-${runId}-p${i}`)}`]
        : []),
      ...SERVER_NODE_FLAGS,
      // V8 flags to try on the servers (e.g. GC settings) that NODE_OPTIONS does not accept.
      ...(values['server-flags']?.split(/\s+/).filter(Boolean) ?? []),
      '--import',
      'tsx',
      'server/src/main.ts',
    ];
    const child = spawn('node', args, {
      cwd: ROOT,
      env: { ...env, PORT: String(port), HOST: '127.0.0.1', INSTANCE_ID: `bench-${runId}-${i}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const logFile = join(LOG_DIR, `${scenario}-${runId}-p${i}.log`);
    child.stdout.pipe(createWriteStream(logFile));
    res.servers.push(child);
    res.serverLogs.push(logFile);
    child.once('exit', (code, signal) => {
      if (res.stoppingServers) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      res.serverExits.push(`p${i} ${how}`);
      log(
        `server p${i} exited (${how}) during the run; its stderr is above, its log in ${logFile}`,
      );
    });
    targets.push(`http://127.0.0.1:${port}`);
  }
  res.cleanup.push(async () => {
    res.stoppingServers = true;
    const alive = res.servers.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of alive) c.kill('SIGTERM');
    const exited = Promise.all(
      alive.map((c) => new Promise<void>((r) => c.once('exit', () => r()))),
    );
    await Promise.race([exited, sleep(20_000)]);
    for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    log('servers stopped');
  });
  await Promise.all(targets.map((t) => waitReady(t)));
  log(`${processes} server process(es) ready at ${targets.join(', ')}`);
  return {
    targets,
    fleet,
    serverEnv: env,
    redisPrefix,
    databaseUrl,
    mode: real ? 'PostgreSQL + Redis' : 'embedded (PGlite + in-process adapters)',
  };
}

interface Worker {
  child: ChildProcess;
  index: number;
  role: WorkerRole;
  ready: Promise<Extract<FromWorker, { type: 'ready' }>>;
  done: Promise<WorkerResult>;
  last?: Extract<FromWorker, { type: 'tick' }>;
}

const workerProcesses: ChildProcess[] = [];
let connectedAtStart = 0;

function startWorker(
  index: number,
  init: Omit<InitMessage, 'type' | 'worker' | 'localAddress'>,
): Worker {
  const child = fork(join(ROOT, 'sim/src/bench/worker.ts'), [], {
    execArgv: [
      // The load generators share the machine with the servers: their cost is part of the
      // measurement, so `--profile` shows it too.
      ...(values.profile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, `${scenario}-${runId}-w${index}`)}`]
        : []),
      // A generator makes as much short-lived garbage per update as a server (a frame, a
      // message, an ack): the same larger young generation spares it most of its pauses.
      ...SERVER_NODE_FLAGS,
      '--import',
      'tsx',
    ],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  workerProcesses.push(child);
  let readyResolve!: (m: Extract<FromWorker, { type: 'ready' }>) => void;
  let doneResolve!: (r: WorkerResult) => void;
  const w: Worker = {
    child,
    index,
    role: init.role,
    ready: new Promise((r) => (readyResolve = r)),
    done: new Promise((r) => (doneResolve = r)),
  };
  child.on('message', (m: FromWorker) => {
    if (m.type === 'ready') readyResolve(m);
    else if (m.type === 'done') doneResolve(m.result);
    else if (m.type === 'tick') w.last = m;
    else log(`worker ${m.worker}: ${m.line}`);
  });
  child.on('exit', (code) => {
    if (code) log(`worker ${index} exited with ${code}`);
  });
  // Each worker connects from an address of its own: ~28k ephemeral ports per source address.
  child.send({
    ...init,
    type: 'init',
    worker: index,
    localAddress: `127.0.0.${10 + index}`,
  } satisfies InitMessage);
  res.cleanup.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.send({ type: 'exit' });
    } catch {
      // The channel is gone already.
    }
    // A simulator's CPU profile runs to hundreds of MB and takes a while to write.
    await Promise.race([
      new Promise((r) => child.once('exit', r)),
      sleep(values.profile ? 60_000 : 5_000),
    ]);
    child.kill('SIGKILL');
  });
  return w;
}

function merge(results: WorkerResult[], name: string): Histogram {
  const h = newHistogram();
  for (const r of results) {
    const enc = r.histograms[name];
    if (enc) h.add(decodeHistogram(enc));
  }
  return h;
}

async function verifyPositions(s: Setup, results: WorkerResult[]) {
  const all = results.flatMap((r) => r.lastAcked);
  const out: Record<string, unknown> = { driversWithAck: all.length };
  if (s.redisPrefix && process.env.REDIS_URL) {
    const redis = new Redis(process.env.REDIS_URL);
    let mismatched = 0;
    let missing = 0;
    for (let i = 0; i < all.length; i += 1_000) {
      const part = all.slice(i, i + 1_000);
      const pipe = redis.pipeline();
      for (const d of part) pipe.hmget(`${s.redisPrefix}driver:${d.id}`, 'lat', 'lng');
      const rows = (await pipe.exec()) ?? [];
      rows.forEach(([, v], j) => {
        const [lat, lng] = (v as Array<string | null>) ?? [];
        const d = part[j]!;
        if (lat == null || lng == null) missing += 1;
        else if (Number(lat) !== d.lat || Number(lng) !== d.lng) mismatched += 1;
      });
    }
    redis.disconnect();
    out.redis = { checked: all.length, missing, mismatched };
  }
  // Through the public API as well (any mode): each driver reads its own live position.
  const sample = all
    .filter((_, i) => i % Math.max(1, Math.floor(all.length / 300)) === 0)
    .slice(0, 300);
  let apiMismatch = 0;
  let apiFailed = 0;
  await Promise.all(
    sample.map(async (d) => {
      try {
        const r = await fetch(`${d.target}/api/v1/driver/status`, {
          headers: { authorization: `Bearer ${d.token}` },
        });
        const body = (await r.json()) as { driver?: { lat: number | null; lng: number | null } };
        if (body.driver?.lat !== d.lat || body.driver?.lng !== d.lng) apiMismatch += 1;
      } catch {
        apiFailed += 1;
      }
    }),
  );
  out.api = { checked: sample.length, mismatched: apiMismatch, failed: apiFailed };
  return out;
}

async function serverSideOrders(s: Setup, since: Date) {
  if (!s.databaseUrl) return null;
  const c = new pg.Client({ connectionString: s.databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<Record<string, number | null>>(
      `SELECT count(*)::int AS orders,
              count(*) FILTER (WHERE assigned_at IS NOT NULL)::int AS matched,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
              count(*) FILTER (WHERE assigned_at IS NULL AND status <> 'cancelled')::int AS unmatched,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - confirmed_at)) AS match_p50_s,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - confirmed_at)) AS match_p95_s,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - confirmed_at)) AS match_p99_s,
              max(extract(epoch FROM assigned_at - confirmed_at)) AS match_max_s,
              avg(offers_count) FILTER (WHERE assigned_at IS NOT NULL) AS offers_per_assignment,
              max(offers_count) FILTER (WHERE assigned_at IS NOT NULL) AS offers_max
       FROM orders WHERE created_at >= $1`,
      [since],
    );
    const r = rows[0] ?? {};
    const round = (v: unknown) =>
      v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100;
    // Where the orders left unmatched stand, read while the servers still run: the bench drops
    // its database afterwards, and "48 unmatched" alone says nothing about why.
    const unmatched = await c.query<Record<string, string | number | null>>(
      `SELECT o.status, o.dispatch_status AS "dispatchStatus", o.attention_reason AS "attentionReason",
              least(o.offers_count, 3) AS "offersCapped", count(*)::int AS orders,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM driver_offers f
                                             WHERE f.order_id = o.id AND f.status = 'pending'))::int AS "pendingOffer",
              round(min(extract(epoch FROM o.dispatch_next_at - now())))::int AS "nextDueMinS",
              round(max(extract(epoch FROM o.dispatch_next_at - now())))::int AS "nextDueMaxS",
              round(max(extract(epoch FROM now() - o.confirmed_at)))::int AS "oldestConfirmedS"
       FROM orders o
       WHERE o.created_at >= $1 AND o.assigned_at IS NULL AND o.status <> 'cancelled'
       GROUP BY 1, 2, 3, 4 ORDER BY orders DESC LIMIT 12`,
      [since],
    );
    return {
      ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)])),
      unmatchedByState: unmatched.rows,
    };
  } finally {
    await c.end();
  }
}

export interface BenchReport {
  scenario: Scenario;
  label: string | null;
  startedAt: string;
  machine: Machine;
  /** What this machine charges for a bare round trip of small messages; null: not run. */
  transportFloor: TransportFloor | null;
  mode: string;
  processes: number;
  loadGenerators: number;
  params: Record<string, unknown>;
  openFileLimit: number;
  results: Record<string, unknown>;
  latencyMs: Record<string, LatencySummary>;
  resources: Record<string, GroupUsage>;
  loopDelayMs: { servers: Array<LoopDelay | null>; loadGenerators: LoopDelay[] };
  /**
   * The servers' own view of location updates in the window, read off to ack written
   * (`delivery_location_ingest_duration_seconds`): per quantile, the bucket bound (ms) it is in.
   */
  serverIngestMs?: Record<string, number> | null;
  /** The servers' location reports in the window by outcome (applied, superseded, ...). */
  serverLocationOutcomes?: Record<string, number> | null;
  /** What the servers logged (warn and above) over the whole run; null: not our servers. */
  serverLog?: ServerLogSummary | null;
  /** Server processes that exited before the bench stopped them: the run is not valid. */
  serverExits?: string[];
  /**
   * Autovacuum's work as the bench did it on its own database (the server had autovacuum off);
   * null when the server's own autovacuum ran, or the database was not ours.
   */
  autovacuumStandIn?: StandInSummary | null;
  targets: Array<{ name: string; target: string; measured: string; met: boolean | null }>;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const startedAt = new Date();
  log(
    `scenario ${scenario}: ${drivers} drivers, ${durationS} s, ${processes} process(es), ${real ? 'PostgreSQL + Redis' : external ? 'external' : 'embedded'}`,
  );
  // Measured first, while nothing else of the run is on the machine, at the run's own rate of
  // location updates. A remote target's transport is not this machine's loopback.
  const transportFloor = external
    ? null
    : await measureTransportFloor({
        rate: Math.round((drivers * 1000) / locationEveryMs),
        sockets: Math.min(drivers, 2_000),
        seconds: 5,
      });
  if (transportFloor)
    log(
      `transport floor: ${transportFloor.cpuMicrosPerRoundTrip} µs of CPU per bare loopback round trip (${transportFloor.coresAtRate} cores at ${transportFloor.rate}/s)`,
    );
  const s = await setup();
  const standIn = s.databaseUrl
    ? await startAutovacuumStandIn(s.databaseUrl, (steps, ms) => {
        if (steps.length)
          log(
            `autovacuum stand-in: ${steps.length} tables vacuumed or analyzed in ${Math.round(ms)} ms`,
          );
      })
    : null;
  if (standIn) {
    res.cleanup.push(async () => void (await standIn.stop()));
    log('PostgreSQL runs with autovacuum off: the bench does its work once a minute (see report)');
  }
  const serverPids = () => res.servers.map((c) => c.pid!).filter(Boolean);
  const workers: Worker[] = [];
  const common = {
    targets: s.targets,
    locationEveryMs,
    area,
    seed: `bench-${scenario}`,
    client,
  };
  const fleet = s.fleet;
  const split = <T>(items: T[], n: number, i: number) => items.filter((_, j) => j % n === i);

  if (scenario === 'orders') {
    workers.push(
      startWorker(0, {
        ...common,
        role: 'sim',
        accounts: {
          drivers: fleet.drivers,
          customers: fleet.customers,
          merchants: fleet.merchants,
        },
        sim: {
          ordersPerMinute: ordersRate * 60,
          acceptProbability: num(values.accept, 1),
          offerDelayMs: [1_000, 5_000],
          timeScale,
          hold,
          trackOrders: false,
          maxOrders: 0,
        },
      }),
    );
  } else {
    const background = fleet.drivers.slice(0, drivers);
    for (let i = 0; i < reporterWorkers; i++) {
      workers.push(
        startWorker(i, {
          ...common,
          role: 'reporters',
          accounts: {
            drivers: split(background, reporterWorkers, i),
            customers: [],
            merchants: [],
          },
        }),
      );
    }
    if (scenario === 'fanout') {
      workers.push(
        startWorker(reporterWorkers, {
          ...common,
          role: 'sim',
          accounts: {
            drivers: fleet.drivers.slice(drivers),
            customers: fleet.customers,
            merchants: fleet.merchants,
          },
          readyWhenMatched: tracked,
          sim: {
            ordersPerMinute: tracked * 4,
            maxOrders: tracked,
            acceptProbability: 1,
            offerDelayMs: [200, 800],
            timeScale: 1,
            trackOrders: true,
          },
        }),
      );
    }
  }
  const progress = setInterval(() => {
    const t = workers.map((w) => w.last).filter((x) => x !== undefined);
    const sum = (k: 'sent' | 'acked' | 'connected' | 'placed' | 'matched' | 'delivered') =>
      t.reduce((a, x) => a + x[k], 0);
    if (t.length)
      log(
        `sent ${sum('sent')} acked ${sum('acked')} connected ${sum('connected')} placed ${sum('placed')} matched ${sum('matched')} delivered ${sum('delivered')}`,
      );
  }, 10_000);
  const readies = await Promise.all(workers.map((w) => w.ready));
  connectedAtStart = readies.reduce((a, r) => a + r.connected, 0);
  log(
    `load generators ready: ${readies.map((r) => `${r.connected}/${r.total}${r.matched !== undefined ? ` matched ${r.matched}` : ''}`).join(', ')}`,
  );
  const warmupS = num(values.warmup, scenario === 'orders' ? 0 : 10);
  if (warmupS) {
    log(`warm-up ${warmupS} s`);
    await sleep(warmupS * 1000);
  }

  const redisPid = async (): Promise<number[]> => pidsByName('redis-server');
  const redisPids = real ? await redisPid() : [];
  const sampler = new ResourceSampler({
    server: serverPids,
    postgres: () => (real ? pidsByName('postgres') : []),
    redis: () => redisPids,
    loadgen: () => workers.map((w) => w.child.pid!).filter(Boolean),
  });
  // Starts the servers' event-loop histograms afresh, and reads where their ingest one stands.
  const scrapedBefore = await scrapeServers(s.targets);
  const windowStart = new Date();
  sampler.start();
  const drainMs = num(values.drain, 180) * 1000;
  for (const w of workers) w.child.send({ type: 'go', durationMs: durationS * 1000, drainMs });
  log(`measuring for ${durationS} s`);
  // Resource figures cover the measured window only (not the drain).
  const resourcesP = sleep(durationS * 1000).then(
    async () => [sampler.stop(), await scrapeServers(s.targets)] as const,
  );
  const results = await Promise.all(workers.map((w) => w.done));
  const [resources, scrapedAfter] = await resourcesP;
  const outcomes = countsInWindow(scrapedBefore, scrapedAfter, (x) => x.outcomes);
  const ingestWindow = countsInWindow(scrapedBefore, scrapedAfter, (x) => x.ingest);
  clearInterval(progress);
  // Peak RSS is the kernel's high-water mark of each server process (whole run).
  const report = await buildReport(
    s,
    results,
    resources,
    machine,
    transportFloor,
    startedAt,
    windowStart,
    {
      servers: scrapedAfter.map((x) => x.loop),
      loadGenerators: results.map((r) => r.loopDelayMs),
    },
    {
      serverIngestMs: ingestWindow && bucketQuantiles(ingestWindow, [0.5, 0.9, 0.99, 0.999]),
      serverLocationOutcomes: outcomes?.size ? Object.fromEntries(outcomes) : null,
    },
  );
  report.autovacuumStandIn = standIn ? await standIn.stop() : null;
  await cleanupAll();
  // Read once the servers have stopped, so their last lines are in.
  if (res.serverLogs.length) {
    const said = await summarizeServerLogs(res.serverLogs);
    report.serverLog = { ...said, files: said.files.map((f) => relative(ROOT, f)) };
  }
  report.serverExits = res.serverExits;
  if (res.serverExits.length) process.exitCode = 1;
  await writeReport(report);
}

/**
 * Each server's `/metrics`: its event-loop delay since the previous scrape (prom-client resets
 * that histogram on every scrape) and its ingest histogram; nulls for a server that did not
 * answer. An overloaded server may take a while: on `fc-v657` both servers of an orders run
 * missed a 10 s limit, and the report lost their event-loop figures.
 */
async function scrapeServers(targets: string[]): Promise<ServerScrape[]> {
  return Promise.all(
    targets.map(async (t) => {
      try {
        const res = await fetch(`${t}/metrics`, { signal: AbortSignal.timeout(30_000) });
        return parseScrape(await res.text());
      } catch {
        return { loop: null, ingest: null, outcomes: null };
      }
    }),
  );
}

async function buildReport(
  s: Setup,
  results: WorkerResult[],
  resources: Record<string, GroupUsage>,
  machine: Machine,
  transportFloor: TransportFloor | null,
  startedAt: Date,
  windowStart: Date,
  loopDelayMs: { servers: Array<LoopDelay | null>; loadGenerators: LoopDelay[] },
  serverView: Pick<BenchReport, 'serverIngestMs' | 'serverLocationOutcomes'>,
): Promise<BenchReport> {
  const counters: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
  const errors = Object.entries(counters).filter(([k]) =>
    /^(http\.|ws\.error\.|ws\.connect_failed|ws\.disconnect|ws\.unexpected|orders\.place_failed|location\.refused)/.test(
      k,
    ),
  );
  const base = {
    scenario,
    label: values.label ?? null,
    startedAt: startedAt.toISOString(),
    machine,
    transportFloor,
    mode: s.mode,
    processes,
    loadGenerators: results.length,
    openFileLimit: fdLimit,
    resources,
    // How late each process's event loop ran in the window: a late loop reads (and answers)
    // late, so this is the share of latency that is waiting for a CPU, not doing the work.
    loopDelayMs,
    ...serverView,
  };
  const serverRss = resources.server?.peakProcessHwmMiB ?? 0;
  if (scenario === 'ingest' || scenario === 'fanout') {
    const reporters = results.filter((r) => r.role === 'reporters');
    const sent = reporters.reduce((a, r) => a + r.sent, 0);
    const acked = reporters.reduce((a, r) => a + r.acked, 0);
    const refused = reporters.reduce((a, r) => a + r.refused, 0);
    const unacked = reporters.reduce((a, r) => a + r.unacked, 0);
    const ack = merge(reporters, 'ack');
    const verification = scenario === 'ingest' ? await verifyPositions(s, reporters) : null;
    const latencyMs: Record<string, LatencySummary> = { locationAck: summarize(ack) };
    const targets: BenchReport['targets'] = [];
    const rate = acked / durationS;
    if (scenario === 'fanout') {
      const fan = merge(
        results.filter((r) => r.role === 'sim'),
        'fanout',
      );
      latencyMs.driverToCustomer = summarize(fan);
      const p99 = latencyMs.driverToCustomer.p99;
      targets.push({
        name: 'driver → customer p99',
        target: '< 250 ms',
        measured: `${p99 ?? '-'} ms`,
        met: p99 !== null && p99 < 250,
      });
    } else {
      // Over the whole run: every report sent was acknowledged or refused, or it was lost.
      const lost = reporters.reduce((a, r) => a + r.totalSent - r.totalAcked - r.totalRefused, 0);
      const v = verification as {
        redis?: { mismatched: number; missing: number };
        api: { mismatched: number };
      };
      const posOk =
        (v.redis ? v.redis.mismatched + v.redis.missing === 0 : true) && v.api.mismatched === 0;
      const p99 = latencyMs.locationAck!.p99;
      targets.push(
        {
          name: 'connected drivers',
          target: '30,000',
          measured: `${connectedAtStart} of ${drivers}`,
          met: connectedAtStart >= 30_000,
        },
        {
          name: 'sustained updates/s',
          target: '≥ 10,000',
          measured: rate.toFixed(0),
          met: rate >= 10_000 * 0.98,
        },
        {
          name: 'ack p99',
          target: '< 100 ms',
          measured: `${p99 ?? '-'} ms`,
          met: p99 !== null && p99 < 100,
        },
        {
          name: 'lost updates',
          target: '0',
          measured: `${lost} (${unacked} unacknowledged, ${refused} refused)`,
          met: lost === 0 && refused === 0,
        },
        {
          name: 'geo index holds last acked position',
          target: 'all checked',
          measured: posOk ? 'yes' : 'NO',
          met: posOk,
        },
        {
          name: 'server peak RSS',
          target: '< 1024 MiB',
          measured: `${serverRss} MiB`,
          met: serverRss < 1024,
        },
      );
    }
    return {
      ...base,
      params: {
        drivers,
        durationS,
        locationEveryMs,
        offeredUpdatesPerSecond: Math.round(drivers / (locationEveryMs / 1000)),
        trackedOrders: tracked || undefined,
        reporterClient: client,
      },
      results: {
        sent,
        acked,
        refused,
        unacknowledged: unacked,
        updatesPerSecond: Math.round(rate),
        connectedAtStart,
        // CPU time the server process(es) spent per acknowledged update (independent of how
        // busy the rest of the machine was).
        serverCpuMicrosPerUpdate: Math.round(
          (((resources.server?.cpuPercent ?? 0) / 100) * durationS * 1e6) / Math.max(1, acked),
        ),
        // The same for the load generators: the transport floor's two sides compare with these.
        loadgenCpuMicrosPerUpdate: Math.round(
          (((resources.loadgen?.cpuPercent ?? 0) / 100) * durationS * 1e6) / Math.max(1, acked),
        ),
        errors: Object.fromEntries(errors),
        verification,
        counters,
      },
      latencyMs,
      targets,
    };
  }
  const sim = results.find((r) => r.role === 'sim')!;
  const summary = sim.summary!;
  const server = await serverSideOrders(s, windowStart);
  const match = summarize(merge([sim], 'match'));
  const placement = summarize(merge([sim], 'placement'));
  const placed = summary.orders.placed;
  const matched = summary.orders.matched;
  const p95s = match.p95 === null ? null : match.p95 / 1000;
  const offers = (counters['offers.received'] ?? 0) / Math.max(1, matched);
  return {
    ...base,
    params: {
      ordersPerSecond: ordersRate,
      durationS,
      drivers,
      customers,
      stores: merchants,
      timeScale,
      acceptProbability: num(values.accept, 1),
      hold,
    },
    results: {
      placed,
      placedPerSecond: Math.round((placed / durationS) * 10) / 10,
      matched,
      delivered: summary.orders.delivered,
      cancelled: summary.orders.cancelled,
      open: summary.orders.open,
      offersPerAssignment: Math.round(offers * 100) / 100,
      simulatorHttpWaitingPeak: summary.httpWaitingPeak,
      serverSide: server,
      errors: Object.fromEntries(errors),
      counters,
    },
    latencyMs: {
      placement,
      match,
      delivery: summarize(merge([sim], 'delivery')),
      locationAck: summarize(merge([sim], 'ack')),
      offerReach: summarize(merge([sim], 'offerReach')),
      offerAnswer: summarize(merge([sim], 'offerAnswer')),
    },
    targets: [
      {
        name: 'order rate',
        target: '35 /s for 300 s',
        measured: `${(placed / durationS).toFixed(1)} /s for ${durationS} s`,
        met: placed / durationS >= 35 * 0.97 && durationS >= 300,
      },
      {
        name: 'every order matched',
        target: `${placed}`,
        measured: `${matched}`,
        met: matched === placed && placed > 0,
      },
      {
        name: 'time to match p95',
        target: '< 30 s',
        measured: p95s === null ? '-' : `${p95s.toFixed(1)} s`,
        met: p95s !== null && p95s < 30,
      },
    ],
  };
}

async function writeReport(report: BenchReport): Promise<void> {
  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  const mode = real ? 'real' : external ? 'external' : 'embedded';
  const base = join(dir, `${report.scenario}-${mode}-p${report.processes}-${stamp}`);
  const md = renderMarkdown(report);
  await writeFormatted(`${base}.json`, JSON.stringify(report, null, 2));
  await writeFormatted(`${base}.md`, md);
  log(`wrote ${base}.json and .md`);
  if (report.serverExits?.length) {
    log('a server exited during the run: docs/benchmarks.md left as it was');
  } else if (!values['no-docs']) {
    await updateDocs(
      join(ROOT, 'docs', 'benchmarks.md'),
      `${report.scenario}-${mode}-p${report.processes}`,
      md,
    );
    log('updated docs/benchmarks.md');
  }
  console.log(`\n${md}`);
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: cleaning up');
  void cleanupAll().then(() => process.exit(130));
});
// Whatever happens, no server or load generator outlives the bench.
process.on('exit', () => {
  for (const s of res.servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  for (const w of workerProcesses)
    if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  await cleanupAll();
  process.exit(1);
});
