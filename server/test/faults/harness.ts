/**
 * Fault-test harness: real server processes, a Redis server and a PostgreSQL cluster of the
 * test's own, each killed, stopped and restarted for real; and the record of what each fault
 * cost (`test-results/faults.json`).
 *
 * Everything started here is cleaned up in `cleanupAll()` (call it from `afterAll`), on process
 * exit and on SIGINT/SIGTERM/SIGHUP. A worker killed outright (SIGKILL) cannot clean up, so every
 * resource is also registered in a folder under the system temp directory; the next run removes
 * whatever a dead owner left behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
if (!realMode) {
  console.info(
    'fault tests skipped: they need real PostgreSQL and Redis processes to break (set DATABASE_URL and REDIS_URL)',
  );
}

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const LOG_DIR = join(RESULTS_DIR, 'faults-logs');
const REGISTRY = join(tmpdir(), 'delivery-fault-tests');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const suffix = () => randomBytes(5).toString('hex');
export const seconds = (ms: number) =>
  ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Cleanup: in-process list, exit handlers, and an on-disk registry for SIGKILLed workers.

interface Registered {
  kind: 'process' | 'pg-cluster' | 'database';
  owner: number;
  pid?: number;
  /** A word the process's command line must contain before a stale sweep kills it. */
  marker?: string;
  dir?: string;
  bin?: string;
  adminUrl?: string;
  database?: string;
}

const cleanups = new Map<string, () => void>();
let handlersInstalled = false;

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', cleanupAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAllSync();
      process.kill(process.pid, signal);
    });
  }
  sweepStale();
}

function track(entry: Registered, cleanup: () => void): () => void {
  installHandlers();
  const id = `${process.pid}.${suffix()}`;
  mkdirSync(REGISTRY, { recursive: true });
  writeFileSync(join(REGISTRY, `${id}.json`), JSON.stringify(entry));
  cleanups.set(id, cleanup);
  return () => {
    cleanups.delete(id);
    rmSync(join(REGISTRY, `${id}.json`), { force: true });
  };
}

/** Synchronous cleanup of everything this process still holds (exit handler). */
export function cleanupAllSync(): void {
  // Newest first: servers before the databases they use, databases before their cluster.
  for (const [id, cleanup] of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: the next run's stale sweep retries
    }
    cleanups.delete(id);
    rmSync(join(REGISTRY, `${id}.json`), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Removes what fault-test workers that died without cleaning up left behind. */
function sweepStale(): void {
  let files: string[];
  try {
    files = readdirSync(REGISTRY).filter((f) => f.endsWith('.json'));
  } catch {
    return;
  }
  for (const file of files) {
    const path = join(REGISTRY, file);
    try {
      const entry = JSON.parse(readFileSync(path, 'utf8')) as Registered;
      if (alive(entry.owner)) continue;
      if (entry.kind === 'process' && entry.pid && alive(entry.pid)) {
        if (entry.marker && commandLine(entry.pid).includes(entry.marker))
          process.kill(entry.pid, 'SIGKILL');
      }
      if (entry.kind === 'database' && entry.adminUrl && entry.database) {
        dropDatabaseSync(entry.adminUrl, entry.database);
      }
      if (entry.kind === 'pg-cluster' && entry.dir && entry.bin) {
        stopClusterSync(entry.bin, entry.dir);
        rmSync(entry.dir, { recursive: true, force: true });
      }
      unlinkSync(path);
    } catch {
      // another worker is sweeping the same file
    }
  }
}

/** Runs every registered cleanup; call from `afterAll`. */
export async function cleanupAll(): Promise<void> {
  cleanupAllSync();
}

// ---------------------------------------------------------------------------------------------
// Child processes that are ours: servers and redis-server.

function trackChild(child: ChildProcess, marker: string): () => void {
  const unregister = track({ kind: 'process', owner: process.pid, pid: child.pid, marker }, () =>
    killChildSync(child),
  );
  child.once('exit', unregister);
  return unregister;
}

function killChildSync(child: ChildProcess) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  name: string;
  port: number;
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves once the process has exited. */
  exited: Promise<ExitInfo>;
  /** Where its stdout and stderr go. */
  logFile: string;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

/**
 * Settings every fault-test server runs with: rate limits out of the way (the tests register and
 * call a lot from 127.0.0.1), no scheduled jobs, short dispatch timings.
 */
export const FAULT_SERVER_ENV: Record<string, string> = {
  RATE_LIMIT_API: '100000/1m',
  RATE_LIMIT_LOGIN: '100000/1m',
  RATE_LIMIT_REGISTER: '100000/1m',
  JOBS_ENABLED: 'false',
  DISPATCH_TICK_MS: '100',
  DISPATCH_OFFER_TIMEOUT_MS: '2000',
  DISPATCH_RETRY_MAX_MS: '500',
  DRIVER_STALE_MS: '120000',
};

export interface ServerEnv {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  extra?: Record<string, string>;
}

/** `node --import tsx server/src/main.ts` as a child process; resolves once `/health/ready` is 200. */
export async function startServer(
  name: string,
  env: ServerEnv,
  testName: string,
): Promise<ServerProcess> {
  const port = await freePort();
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${testName}-${name}.log`);
  writeFileSync(logFile, '');
  const base = { ...process.env };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'PORT', 'INSTANCE_ID'])
    delete base[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...base,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      INSTANCE_ID: `${testName}-${name}`,
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'warn',
      SEED_DEMO: 'false',
      PASSWORD_HASH_MEMORY_KIB: '1024',
      DATABASE_URL: env.databaseUrl,
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: env.redisPrefix,
      ...FAULT_SERVER_ENV,
      ...env.extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child, 'server/src/main.ts');
  const write = (chunk: Buffer) => appendFileSync(logFile, chunk);
  child.stdout.on('data', write);
  child.stderr.on('data', write);
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  let gone: ExitInfo | null = null;
  void exited.then((e) => (gone = e));
  try {
    await waitFor(
      `server ${name} to be ready`,
      async () => {
        if (gone) throw new Error(`exited early (${JSON.stringify(gone)})`);
        const res = await fetch(`${url}/health/ready`);
        await res.arrayBuffer();
        return res.status === 200;
      },
      45_000,
      100,
    );
  } catch (err) {
    killChildSync(child);
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail}`, { cause: err });
  }
  return {
    name,
    port,
    url,
    pid: child.pid!,
    child,
    exited,
    logFile,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killChildSync(child), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A Redis server of the test's own.

function redisPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export interface RedisProcess {
  port: number;
  url: string;
  /** Starts (again) on the same port, empty. */
  start(): Promise<void>;
  /** SIGKILL: the data is gone, as after a crash of a Redis without persistence. */
  kill(): Promise<void>;
  flushAll(): void;
  running(): boolean;
}

export async function startRedisServer(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  const running = () => Boolean(child && child.exitCode === null && child.signalCode === null);
  const redis: RedisProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    running,
    async start() {
      if (running()) return;
      const proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--loglevel',
          'warning',
        ],
        { stdio: 'ignore' },
      );
      child = proc;
      trackChild(proc, 'redis-server');
      exited = new Promise((resolve) => proc.once('exit', resolve));
      await waitFor('redis-server to answer PING', () => redisPing(port), 10_000, 25);
    },
    async kill() {
      if (!running()) return;
      child!.kill('SIGKILL');
      await exited;
    },
    flushAll() {
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'FLUSHALL']);
    },
  };
  await redis.start();
  return redis;
}

// ---------------------------------------------------------------------------------------------
// A throwaway PostgreSQL cluster of the test's own.

function findPgBin(): string {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'pg_ctl')))
    return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('pg_ctl not found: set PG_BIN to the folder holding initdb and pg_ctl');
  }
}

const asRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user. */
function pgTool(bin: string, tool: string, args: string[]) {
  const cmd = join(bin, tool);
  return asRoot()
    ? { file: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] }
    : { file: cmd, args };
}

function runPgTool(bin: string, tool: string, args: string[], timeoutMs = 60_000): string {
  const { file, args: argv } = pgTool(bin, tool, args);
  return execFileSync(file, argv, { encoding: 'utf8', timeout: timeoutMs, stdio: 'pipe' });
}

function runPgToolAsync(bin: string, tool: string, args: string[], timeoutMs = 60_000) {
  const { file, args: argv } = pgTool(bin, tool, args);
  return new Promise<string>((resolve, reject) =>
    execFile(file, argv, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) =>
      err ? reject(new Error(`${tool} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

function stopClusterSync(bin: string, dir: string) {
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'postmaster.pid'))) return;
  try {
    runPgTool(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], 30_000);
  } catch {
    // already stopped
  }
}

export interface PgCluster {
  port: number;
  /** The cluster's `postgres` database, as superuser `postgres` (trust auth, loopback only). */
  adminUrl: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: open transactions are rolled back, clients disconnected. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  running(): boolean;
  remove(): void;
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = findPgBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'delivery-fault-pg-'));
  const data = join(dir, 'data');
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const unregister = track({ kind: 'pg-cluster', owner: process.pid, dir, bin }, () => {
    stopClusterSync(bin, dir);
    rmSync(dir, { recursive: true, force: true });
  });
  runPgTool(bin, 'initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c shared_buffers=32MB',
    '-c max_connections=60',
  ].join(' ');
  let up = false;
  const cluster: PgCluster = {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    running: () => up,
    async start() {
      await runPgToolAsync(bin, 'pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-o',
        options,
        '-w',
        '-t',
        '30',
        'start',
      ]);
      up = true;
    },
    async stop(mode = 'fast') {
      await runPgToolAsync(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
      up = false;
    },
    remove() {
      stopClusterSync(bin, dir);
      up = false;
      rmSync(dir, { recursive: true, force: true });
      unregister();
    },
  };
  await cluster.start();
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Databases and connections.

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A database of its own next to the one `adminUrl` names (so CI's cleanup of `<run id>*`
 * databases also catches it), with a small pool the test reads the truth from.
 */
export async function createDatabase(adminUrl: string, tag: string): Promise<TestDatabase> {
  const admin = new URL(adminUrl);
  const name = `${admin.pathname.slice(1) || 'delivery'}_fault_${tag}_${suffix()}`.slice(0, 63);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const own = new URL(adminUrl);
  own.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: own.toString(), max: 4 });
  pool.on('error', () => undefined); // the test's own connections die with a stopped cluster
  let dropped = false;
  const unregister = track({ kind: 'database', owner: process.pid, adminUrl, database: name }, () =>
    dropDatabaseSync(adminUrl, name),
  );
  return {
    url: own.toString(),
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end().catch(() => undefined);
        unregister();
      }
    },
  };
}

function dropDatabaseSync(adminUrl: string, name: string) {
  try {
    execFileSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`], {
      stdio: 'ignore',
      timeout: 10_000,
    });
  } catch {
    // the server is gone (a removed cluster) or psql is missing: nothing more to do here
  }
}

export function redisPrefixFor(tag: string): string {
  return `${process.env.REDIS_PREFIX ?? 'test:'}fault-${tag}-${suffix()}:`;
}

// ---------------------------------------------------------------------------------------------
// HTTP: a client that never reuses a connection, so a killed server shows as a failed request.

export interface Answer {
  status: number;
  body: any;
  ms: number;
  /** Set instead of a status when the request failed at the network level. */
  error?: string;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: {
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { connection: 'close', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.status, body, ms: performance.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      status: 0,
      body: null,
      ms: performance.now() - started,
      error: cause ?? (err as Error).name ?? 'error',
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Data a fault test needs: users through the API, a store in the database.

export const HEIDELBERG = { lat: 49.4093, lng: 8.6937 };
export const north = (km: number, from = HEIDELBERG) => ({
  lat: from.lat + km * 0.009,
  lng: from.lng,
});

export interface User {
  id: string;
  email: string;
  token: string;
}

export async function register(
  url: string,
  role: 'customer' | 'driver' | 'merchant',
): Promise<User> {
  const email = `${role}-${suffix()}@fault.test`;
  const res = await call(url, 'POST', '/api/v1/auth/register', {
    body: {
      email,
      password: 'password123',
      name: `Fault ${role}`,
      role,
      ...(role === 'driver' ? { vehicleType: 'bicycle' } : {}),
    },
  });
  if (res.status !== 201)
    throw new Error(`register ${role}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, token: res.body.token };
}

export interface Store {
  id: string;
  owner: User;
  itemId: string;
}

/** A merchant user through the API, its store and one menu item straight in the database. */
export async function createStore(url: string, db: pg.Pool, at = HEIDELBERG): Promise<Store> {
  const owner = await register(url, 'merchant');
  const m = await db.query<{ id: string }>(
    `INSERT INTO merchants (owner_id, name, address, lat, lng, category, delivery_radius_km)
     VALUES ($1, $2, 'Bismarckplatz 1, Heidelberg', $3, $4, 'restaurant', 10) RETURNING id`,
    [owner.id, `Fault store ${suffix()}`, at.lat, at.lng],
  );
  const id = m.rows[0]!.id;
  const item = await db.query<{ id: string }>(
    `INSERT INTO menu_items (merchant_id, name, price_cents) VALUES ($1, 'Pizza', 900) RETURNING id`,
    [id],
  );
  return { id, owner, itemId: item.rows[0]!.id };
}

export function orderBody(store: Store, near = HEIDELBERG) {
  return {
    merchantId: store.id,
    items: [{ menuItemId: store.itemId, quantity: 2 }],
    deliveryAddress: 'Hauptstraße 120, Heidelberg',
    deliveryLat: near.lat + 0.003,
    deliveryLng: near.lng + 0.01,
    tipCents: 100,
  };
}

export function placeOrder(
  url: string,
  customer: User,
  store: Store,
  key: string,
  near = HEIDELBERG,
) {
  return call(url, 'POST', '/api/v1/orders', {
    token: customer.token,
    headers: { 'x-idempotency-key': key },
    body: orderBody(store, near),
  });
}

/**
 * Orders of a customer that are half-written: no items, or no audit row for their creation.
 * Both are written in the order's transaction, so this must always be empty.
 */
export async function halfWrittenOrders(db: pg.Pool, customerId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT o.id FROM orders o
     WHERE o.customer_id = $1
       AND (NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)
            OR NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'pending'))`,
    [customerId],
  );
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// What each fault cost, for the issue note.

export interface FaultRecord {
  name: string;
  /** What was broken, in words. */
  broken: string;
  /** From the fault to the service working again on its own (null: it did not). */
  recoveredInMs: number | null;
  ordersLost: number;
  ordersDuplicated: number;
  passed: boolean;
  /** Replaces "recovered in ..." in the summary line where recovery is not the measure. */
  outcome?: string;
  details: Record<string, unknown>;
}

export function newRecord(name: string, broken: string): FaultRecord {
  return {
    name,
    broken,
    recoveredInMs: null,
    ordersLost: 0,
    ordersDuplicated: 0,
    passed: false,
    details: {},
  };
}

export function summaryLine(r: FaultRecord): string {
  const recovered =
    r.outcome ??
    (r.recoveredInMs === null ? 'did not recover' : `recovered in ${seconds(r.recoveredInMs)}`);
  const extra = typeof r.details.summary === 'string' ? `; ${r.details.summary}` : '';
  return `FAULT ${r.name}: ${recovered}, ${r.ordersLost} orders lost, ${r.ordersDuplicated} duplicated${extra}${r.passed ? '' : ' [FAILED]'}`;
}

/** Prints the summary line and merges the record into test-results/faults.json (by name). */
export function recordFault(r: FaultRecord): void {
  const line = summaryLine(r);
  console.log(line);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'faults.json');
  withLock(`${file}.lock`, () => {
    let all: Array<FaultRecord & { summary: string; at: string }> = [];
    try {
      all = JSON.parse(readFileSync(file, 'utf8')) as typeof all;
    } catch {
      all = [];
    }
    all = all.filter((x) => x.name !== r.name);
    all.push({ ...r, summary: line, at: new Date().toISOString() });
    all.sort((a, b) => a.name.localeCompare(b.name));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
    renameSync(tmp, file);
  });
}

function withLock(lock: string, fn: () => void) {
  const until = Date.now() + 5_000;
  let fd: number | null = null;
  while (fd === null) {
    try {
      fd = openSync(lock, 'wx');
    } catch {
      if (Date.now() > until) {
        rmSync(lock, { force: true }); // a holder that died; take over
        continue;
      }
      execFileSync('sleep', ['0.02']);
    }
  }
  try {
    fn();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

/** Keeps `n` samples and reports percentiles. */
export function latencyStats(ms: number[]) {
  if (ms.length === 0) return { n: 0, maxMs: null, p50Ms: null };
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  return { n: ms.length, p50Ms: at(0.5), maxMs: Math.round(sorted[sorted.length - 1]!) };
}
