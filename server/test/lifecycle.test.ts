import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAdapters } from '../src/adapters/redis/index.ts';
import type { KeyValueAdapters } from '../src/adapters/ports.ts';
import type { Db } from '../src/db/db.ts';
import { HOUR_MS, type Job } from '../src/jobs/job.ts';
import { JobScheduler } from '../src/jobs/scheduler.ts';
import type { Manifest } from '../src/lifecycle/archive.ts';
import { DAY_MS, isoDay, relationExists, utcDay } from '../src/lifecycle/common.ts';
import { csvRow, parseCsv } from '../src/lifecycle/csv.ts';
import { createLocalStore } from '../src/lifecycle/local-store.ts';
import { ACTIVE_GAP_SECONDS } from '../src/lifecycle/location-retention.ts';
import { archiveOrders, restoreOrdersMonth } from '../src/lifecycle/orders-archive.ts';
import { terminalProgress } from '../src/lifecycle/progress.ts';
import { createS3Store } from '../src/lifecycle/s3-store.ts';
import { readObject, type ObjectStore } from '../src/lifecycle/store.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * Data lifecycle: archival of order partitions through a real local folder and through the S3
 * API (against a small in-test S3 server: the external service, faked honestly), verification
 * before anything is dropped, restore, retention of location history, idempotency keys, audit
 * rows and notifications, dry runs, and the leased scheduler. Every test has its own platform
 * (PGlite in memory, or its own PostgreSQL database and Redis prefix with DATABASE_URL/REDIS_URL).
 */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REDIS_URL = process.env.REDIS_URL;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lifecycle-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function platform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const tp = await startTestPlatform({ ARCHIVE_DIR: await tempDir(), ...env });
  cleanups.push(() => tp.stop());
  return tp;
}

function scheduler(
  tp: TestPlatform,
  opts: {
    store?: ObjectStore;
    jobs?: Job[];
    holder?: string;
    leases?: KeyValueAdapters['leases'];
  } = {},
) {
  return new JobScheduler({
    db: tp.infra.db,
    leases: opts.leases ?? tp.infra.kv.leases,
    holder: opts.holder ?? `test-${randomBytes(3).toString('hex')}`,
    log: tp.app.log as unknown as Logger,
    config: tp.config,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// A fake S3: just PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObject, path style.

interface FakeS3 {
  endpoint: string;
  objects: Map<string, Buffer>;
  requests: string[];
  close(): Promise<void>;
}

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function startFakeS3(bucket = 'archive'): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://s3.local');
      const [, b = '', ...rest] = url.pathname.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      const body = await readBody(req);
      requests.push(`${req.method} ${key || `?${url.searchParams.toString()}`}`);
      const error = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><Key>${xml(key)}</Key></Error>`,
        );
      };
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        return error(403, 'AccessDenied');
      }
      if (b !== bucket) return error(404, 'NoSuchBucket');
      if (req.method === 'PUT' && key) {
        // What a service without aws-chunked support would do; the adapter must not send it.
        if (String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) {
          return error(501, 'NotImplemented');
        }
        if (Number(req.headers['content-length']) !== body.length) return error(400, 'BadDigest');
        objects.set(key, body);
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        res.writeHead(200, { etag });
        return res.end();
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && key) {
        const obj = objects.get(key);
        if (!obj) return error(404, req.method === 'HEAD' ? 'NotFound' : 'NoSuchKey');
        res.writeHead(200, {
          'content-length': obj.length,
          'content-type': 'application/octet-stream',
          etag: `"${createHash('md5').update(obj).digest('hex')}"`,
          'last-modified': new Date().toUTCString(),
        });
        return res.end(req.method === 'HEAD' ? undefined : obj);
      }
      if (req.method === 'GET' && !key && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Number(url.searchParams.get('max-keys') ?? 1000);
        const after = url.searchParams.get('continuation-token') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = keys.slice(0, max);
        const truncated = keys.length > page.length;
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?>` +
            `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
            `<Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
            `<MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
            page
              .map(
                (k) =>
                  `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)!.length}</Size>` +
                  `<LastModified>${new Date().toISOString()}</LastModified><StorageClass>STANDARD</StorageClass></Contents>`,
              )
              .join('') +
            (truncated
              ? `<NextContinuationToken>${xml(page[page.length - 1]!)}</NextContinuationToken>`
              : '') +
            `</ListBucketResult>`,
        );
      }
      if (req.method === 'DELETE' && key) {
        objects.delete(key);
        res.writeHead(204);
        return res.end();
      }
      return error(501, 'NotImplemented');
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function fakeS3Store(): Promise<{ store: ObjectStore; s3: FakeS3 }> {
  const s3 = await startFakeS3();
  cleanups.push(() => s3.close());
  const store = createS3Store({
    bucket: 'archive',
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' },
    listPageSize: 2,
  });
  return { store, s3 };
}

/** A store whose uploads of matching keys arrive with one byte flipped. */
function flipping(inner: ObjectStore, match: RegExp): ObjectStore {
  return {
    ...inner,
    async put(key, body, contentType) {
      if (!match.test(key)) return inner.put(key, body, contentType);
      const bytes = Buffer.from(body instanceof Uint8Array ? body : await readFile(body.file));
      const at = bytes.length >> 1;
      bytes[at] = bytes[at]! ^ 0x01;
      return inner.put(key, bytes, contentType);
    },
  };
}

/** A store that fails the upload of matching keys, like a crash at that point. */
function failing(inner: ObjectStore, match: RegExp): ObjectStore {
  return {
    ...inner,
    async put(key, body, contentType) {
      if (match.test(key)) throw new Error(`simulated crash while writing ${key}`);
      return inner.put(key, body, contentType);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Data

interface World {
  customer: string;
  merchant: string;
  item: string;
  driver: string;
}

async function world(db: Db): Promise<World> {
  const tag = randomBytes(4).toString('hex');
  const user = async (role: string) =>
    (
      await db.query<{ id: string }>(
        `INSERT INTO users (email, password_hash, name, role) VALUES ($1, 'x', $2, $3) RETURNING id`,
        [`${role}-${tag}@test.local`, `Test ${role}`, role],
      )
    ).rows[0]!.id;
  const customer = await user('customer');
  const driver = await user('driver');
  await db.query(`INSERT INTO drivers (id, vehicle_type) VALUES ($1, 'bicycle')`, [driver]);
  const merchant = (
    await db.query<{ id: string }>(
      `INSERT INTO merchants (name, address, lat, lng, category)
       VALUES ('Archive store', 'Bismarckplatz 1', 49.4093, 8.6937, 'restaurant') RETURNING id`,
    )
  ).rows[0]!.id;
  const item = (
    await db.query<{ id: string }>(
      `INSERT INTO menu_items (merchant_id, name, price_cents) VALUES ($1, 'Pizza', 900) RETURNING id`,
      [merchant],
    )
  ).rows[0]!.id;
  return { customer, merchant, item, driver };
}

/** Notes that CSV must carry exactly: separators, quotes, newlines, NULL versus empty. */
const TRICKY_NOTES = [
  null,
  '',
  'ring twice, "loudly"\nsecond line',
  'Straße ümlaut 😀',
  '\\N',
  ' ',
];

async function insertOrder(
  db: Db,
  w: World,
  createdAt: Date,
  i: number,
  status = i % 3 === 0 ? 'cancelled' : 'delivered',
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO orders (created_at, customer_id, merchant_id, driver_id, status, dispatch_status,
                         delivery_address, delivery_lat, delivery_lng, notes, distance_km,
                         subtotal_cents, delivery_fee_cents, tip_cents, total_cents,
                         delivered_at, cancelled_at, cancel_reason, cancelled_by)
     VALUES ($1, $2, $3, $4, $5, $6, 'Hauptstraße 1', 49.41, 8.70, $7, 1.234567890123,
             1800, 299, $8, 2099 + $8::int,
             CASE WHEN $5 = 'delivered' THEN $1::timestamptz + interval '40 minutes' END,
             CASE WHEN $5 = 'cancelled' THEN $1::timestamptz + interval '3 minutes' END,
             CASE WHEN $5 = 'cancelled' THEN 'changed my mind' END,
             CASE WHEN $5 = 'cancelled' THEN 'customer' END)
     RETURNING id`,
    [
      createdAt,
      w.customer,
      w.merchant,
      status === 'delivered' ? w.driver : null,
      status,
      status === 'delivered' || status === 'cancelled' ? 'stopped' : 'searching',
      TRICKY_NOTES[i % TRICKY_NOTES.length],
      i % 4,
    ],
  );
  const id = rows[0]!.id;
  for (const qty of [1, 2]) {
    await db.query(
      `INSERT INTO order_items (order_id, order_created_at, menu_item_id, name, quantity, unit_price_cents)
       VALUES ($1, $2, $3, $4, $5, 900)`,
      [id, createdAt, w.item, `Pizza "${qty}", large`, qty],
    );
  }
  await db.query(
    `INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role, reason, data, created_at)
     VALUES ($1, NULL, 'pending', $2, 'customer', NULL, $3, $4),
            ($1, 'pending', $5, NULL, 'system', 'test', NULL, $4::timestamptz + interval '1 minute')`,
    [id, w.customer, JSON.stringify({ note: 'a,"b"\nc', n: i }), createdAt, status],
  );
  return id;
}

/** Start of the UTC month `offset` months from now. */
const monthStart = (offset: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
};
const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/** Creates `orders_YYYY_MM` for an old month and fills it with `n` finished orders. */
async function oldMonth(db: Db, w: World, offset: number, n: number) {
  const from = monthStart(offset);
  await db.query(`SELECT ensure_range_partitions('orders', 'month', $1::timestamptz, 1)`, [from]);
  const partition = `orders_${monthKey(from).replace('-', '_')}`;
  expect(await relationExists(db, partition)).toBe(true);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await insertOrder(db, w, new Date(from.getTime() + i * 3_600_000 + 123), i));
  }
  return { from, month: monthKey(from), partition, ids };
}

/** A hash of every row of a month's orders, their items and their events. */
async function monthHash(db: Db, from: Date) {
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  const { rows } = await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('timezone', 'UTC', true)`);
    return tx.query<{ orders: number; items: number; events: number; h: string }>(
      `SELECT (SELECT count(*)::int FROM orders WHERE created_at >= $1 AND created_at < $2) AS orders,
              (SELECT count(*)::int FROM order_items WHERE order_created_at >= $1 AND order_created_at < $2) AS items,
              (SELECT count(*)::int FROM order_events e WHERE e.order_id IN
                 (SELECT id FROM orders WHERE created_at >= $1 AND created_at < $2)) AS events,
              md5(coalesce((SELECT string_agg(o::text, '|' ORDER BY o.id) FROM orders o
                              WHERE created_at >= $1 AND created_at < $2), '') ||
                  coalesce((SELECT string_agg(i::text, '|' ORDER BY i.id) FROM order_items i
                              WHERE order_created_at >= $1 AND order_created_at < $2), '') ||
                  coalesce((SELECT string_agg(e::text, '|' ORDER BY e.id) FROM order_events e
                              WHERE e.order_id IN (SELECT id FROM orders WHERE created_at >= $1
                                                    AND created_at < $2)), '')) AS h`,
      [from, to],
    );
  });
  return rows[0]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` holds (the machine may be busy: no fixed sleeps for things to happen). */
async function waitFor(done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

const count = async (db: Db, sql: string, params: unknown[] = []) =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

// ---------------------------------------------------------------------------------------------

describe('CSV', () => {
  it('round-trips NULL, empty strings, quotes, separators and newlines, in any chunking', async () => {
    const rows = [
      ['a', null, '', '"', ',', 'x\ny', 'r\r\nn', 'ü😀', '\\N', ' '],
      [null, null],
      [''],
    ];
    const text = rows.map((r) => csvRow(r)).join('');
    for (const size of [1, 2, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const parsed = [];
      for await (const row of parseCsv(Readable.from(chunks))) parsed.push(row);
      expect(parsed).toEqual(rows);
    }
  });

  it('shows progress as rows, percent and rows per second', () => {
    const lines: string[] = [];
    let t = 0;
    const out = {
      isTTY: false,
      write: (s: string) => lines.push(s),
    } as unknown as NodeJS.WriteStream;
    const progress = terminalProgress(out, () => t);
    progress({ label: 'orders 2025-01', done: 0, total: 4000 });
    t = 2_000;
    progress({ label: 'orders 2025-01', done: 1000, total: 4000 });
    t = 4_000;
    progress({ label: 'orders 2025-01', done: 4000, total: 4000 });
    expect(lines.at(1)).toBe('orders 2025-01: 1,000/4,000 rows (25.0%) 500 rows/s\n');
    expect(lines.at(-1)).toBe('orders 2025-01: 4,000/4,000 rows (100.0%) 1,000 rows/s\n');
  });
});

describe.each(['local', 's3'] as const)('object store (%s)', (kind) => {
  it('puts, gets, heads, lists and deletes objects', async () => {
    const store =
      kind === 'local' ? createLocalStore(await tempDir()) : (await fakeS3Store()).store;
    const dir = await tempDir();
    const file = join(dir, 'big.bin');
    const big = randomBytes(300_000);
    await writeFile(file, big);

    await store.put('orders/2025-01/set/a.csv.gz', Buffer.from('hello'));
    await store.put('orders/2025-01/set/b.bin', { file });
    await store.put('orders/2025-02/set/manifest.json', Buffer.from('{}'));
    await store.put('audit/x.txt', Buffer.from(''));

    expect((await readObject(store, 'orders/2025-01/set/a.csv.gz'))?.toString()).toBe('hello');
    expect((await readObject(store, 'orders/2025-01/set/b.bin'))?.equals(big)).toBe(true);
    expect(await readObject(store, 'audit/x.txt')).toEqual(Buffer.alloc(0));
    expect(await store.get('orders/nope')).toBeNull();
    expect(await store.head('orders/2025-01/set/b.bin')).toEqual({
      key: 'orders/2025-01/set/b.bin',
      size: big.length,
    });
    expect(await store.head('orders/nope')).toBeNull();
    expect((await store.list('orders/')).map((o) => o.key)).toEqual([
      'orders/2025-01/set/a.csv.gz',
      'orders/2025-01/set/b.bin',
      'orders/2025-02/set/manifest.json',
    ]);
    expect((await store.list('orders/2025-0')).length).toBe(3);
    expect((await store.list('orders/2025-01/')).map((o) => o.size)).toEqual([5, big.length]);
    expect(await store.list('nothing/')).toEqual([]);

    await store.put('orders/2025-01/set/a.csv.gz', Buffer.from('replaced'));
    expect((await readObject(store, 'orders/2025-01/set/a.csv.gz'))?.toString()).toBe('replaced');
    await store.delete('orders/2025-01/set/a.csv.gz');
    await store.delete('orders/2025-01/set/a.csv.gz'); // already gone: fine
    expect(await store.head('orders/2025-01/set/a.csv.gz')).toBeNull();
    await expect(store.put('../escape', Buffer.from('x'))).rejects.toThrow(/invalid object key/);
  });
});

describe.each(['local', 's3'] as const)('order archival through the %s store', (kind) => {
  it('exports an old month, verifies it, drops the partition, and restores identical rows', async () => {
    const tp = await platform();
    const db = tp.infra.db;
    const s3 = kind === 's3' ? await fakeS3Store() : null;
    const store = s3?.store ?? createLocalStore(tp.config.archive.dir!);
    const w = await world(db);
    const old = await oldMonth(db, w, -3, 25);
    const current = await insertOrder(db, w, new Date(), 1);
    const before = await monthHash(db, old.from);
    expect(before).toMatchObject({ orders: 25, items: 50, events: 50 });

    const report = await scheduler(tp, { store }).run('orders-archive', { force: true });
    expect(report.status).toBe('succeeded');
    expect(report.details).toEqual([
      expect.objectContaining({
        partition: old.partition,
        action: 'archived',
        orders: 25,
        items: 50,
        events: 50,
      }),
    ]);

    // The partition and the items are gone; the events stay (audit retention); today is untouched.
    expect(await relationExists(db, old.partition)).toBe(false);
    expect(await monthHash(db, old.from)).toMatchObject({ orders: 0, items: 0 });
    expect(await count(db, 'order_events WHERE order_id = ANY($1::uuid[])', [old.ids])).toBe(50);
    expect(await count(db, 'orders WHERE id = $1', [current])).toBe(1);
    expect(await count(db, 'order_items WHERE order_id = $1', [current])).toBe(2);

    // The store holds three gzip CSV files and a manifest whose counts and checksums match.
    const keys = (await store.list(`orders/${old.month}/`)).map((o) => o.key);
    expect(keys).toHaveLength(4);
    const manifestKey = keys.find((k) => k.endsWith('/manifest.json'))!;
    const manifest = JSON.parse((await readObject(store, manifestKey))!.toString()) as Manifest;
    expect(manifest.kind).toBe('orders-month');
    expect(manifest.objects.map((o) => [o.table, o.rows])).toEqual([
      ['orders', 25],
      ['order_items', 50],
      ['order_events', 50],
    ]);
    for (const obj of manifest.objects) {
      expect(obj.key).toMatch(
        new RegExp(`^orders/${old.month}/[0-9a-f]{16}/${obj.table}\\.csv\\.gz$`),
      );
      const bytes = (await readObject(store, obj.key))!;
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(obj.sha256);
      expect(bytes.length).toBe(obj.bytes);
      const rows = [];
      for await (const row of parseCsv(Readable.from([gunzipSync(bytes).toString('utf8')])))
        rows.push(row);
      expect(rows[0]).toEqual(obj.columns);
      expect(rows.length - 1).toBe(obj.rows);
    }
    if (s3) expect(s3.s3.requests.some((r) => r.startsWith('GET ?list-type=2'))).toBe(true);

    // Restore brings back exactly the same rows; a second restore changes nothing.
    const restored = await restoreOrdersMonth(db, store, old.month);
    expect(restored.partitionExisted).toBe(false);
    expect(restored.tables).toEqual([
      { table: 'orders', archived: 25, inserted: 25 },
      { table: 'order_items', archived: 50, inserted: 50 },
      { table: 'order_events', archived: 50, inserted: 0 },
    ]);
    expect(await relationExists(db, old.partition)).toBe(true);
    expect(await monthHash(db, old.from)).toEqual(before);
    const again = await restoreOrdersMonth(db, store, old.month);
    expect(again.tables.map((t) => t.inserted)).toEqual([0, 0, 0]);
    expect(await monthHash(db, old.from)).toEqual(before);

    // Archiving the restored month again writes the same keys (content-addressed), no second set.
    const second = await archiveOrders(db, store, { hotDays: 30 });
    expect(second.map((o) => o.action)).toEqual(['archived']);
    expect((await store.list(`orders/${old.month}/`)).map((o) => o.key)).toEqual(keys);
  });
});

describe('order archival safety', () => {
  it('leaves the partition in place when the uploaded data fails verification', async () => {
    const tp = await platform();
    const db = tp.infra.db;
    const w = await world(db);
    const old = await oldMonth(db, w, -4, 6);
    const before = await monthHash(db, old.from);
    const store = flipping(createLocalStore(tp.config.archive.dir!), /order_items\.csv\.gz$/);

    const report = await scheduler(tp, { store }).run('orders-archive', { force: true });

    expect(report.status).toBe('failed');
    const [outcome] = report.details as Array<{ action: string; reason: string }>;
    expect(outcome!.action).toBe('failed');
    expect(outcome!.reason).toMatch(/failed verification: .*order_items\.csv\.gz: sha256/);
    expect(await relationExists(db, old.partition)).toBe(true);
    expect(await monthHash(db, old.from)).toEqual(before);
    const run = await db.query<{ status: string }>(
      `SELECT status FROM job_runs WHERE job = 'orders-archive'`,
    );
    expect(run.rows).toEqual([{ status: 'failed' }]);
  });

  it('recovers from a crash mid-upload: nothing dropped, the next run completes the same set', async () => {
    const tp = await platform();
    const db = tp.infra.db;
    const w = await world(db);
    const old = await oldMonth(db, w, -5, 4);
    const before = await monthHash(db, old.from);
    const local = createLocalStore(tp.config.archive.dir!);

    const crashed = await archiveOrders(db, failing(local, /manifest\.json$/), { hotDays: 30 });
    expect(crashed[0]).toMatchObject({
      action: 'failed',
      reason: expect.stringMatching(/simulated crash/),
    });
    expect(await monthHash(db, old.from)).toEqual(before);
    const partial = (await local.list('orders/')).map((o) => o.key);
    expect(partial).toHaveLength(3); // the data files, no manifest

    const done = await archiveOrders(db, local, { hotDays: 30 });
    expect(done[0]).toMatchObject({ action: 'archived', orders: 4 });
    const keys = (await local.list('orders/')).map((o) => o.key);
    expect(keys).toHaveLength(4);
    expect(keys).toEqual(expect.arrayContaining(partial));
    expect(await relationExists(db, old.partition)).toBe(false);
  });

  it('skips a month that still has an active order, and drops an empty old month', async () => {
    const tp = await platform();
    const db = tp.infra.db;
    const w = await world(db);
    const busy = await oldMonth(db, w, -6, 3);
    await insertOrder(db, w, new Date(busy.from.getTime() + DAY_MS), 0, 'preparing');
    const empty = await oldMonth(db, w, -7, 0);

    const outcomes = await archiveOrders(db, createLocalStore(tp.config.archive.dir!), {
      hotDays: 30,
    });

    expect(outcomes).toEqual([
      expect.objectContaining({ partition: empty.partition, action: 'dropped-empty' }),
      expect.objectContaining({ partition: busy.partition, action: 'skipped-active', orders: 4 }),
    ]);
    expect(await relationExists(db, busy.partition)).toBe(true);
    expect(await relationExists(db, empty.partition)).toBe(false);
    // The current and previous months are never candidates.
    expect(await relationExists(db, `orders_${monthKey(monthStart(-1)).replace('-', '_')}`)).toBe(
      true,
    );
    expect(await relationExists(db, `orders_${monthKey(monthStart(0)).replace('-', '_')}`)).toBe(
      true,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('retention', () => {
  let tp: TestPlatform;
  let db: Db;
  let w: World;
  let store: ObjectStore;
  const now = Date.now();
  const today = utcDay(now);
  const day10 = today - 10 * DAY_MS;
  const day9 = today - 9 * DAY_MS;
  const day2 = today - 2 * DAY_MS;
  const day40 = today - 40 * DAY_MS;
  let oldOrders: Awaited<ReturnType<typeof oldMonth>>;

  const snapshot = async () => ({
    tables: await db.query(
      `SELECT (SELECT count(*)::int FROM orders) AS orders,
              (SELECT count(*)::int FROM order_items) AS items,
              (SELECT count(*)::int FROM order_events) AS events,
              (SELECT count(*)::int FROM driver_location_history) AS points,
              (SELECT count(*)::int FROM driver_location_daily) AS daily,
              (SELECT count(*)::int FROM driver_location_rollups) AS rollups,
              (SELECT count(*)::int FROM idempotency_keys) AS keys,
              (SELECT count(*)::int FROM notifications) AS notifications,
              (SELECT count(*)::int FROM job_runs) AS runs,
              (SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
                WHERE c.relname LIKE 'orders\\_%' OR c.relname LIKE 'driver\\_location\\_history\\_%') AS parts`,
    ),
    objects: await store.list(''),
  });

  // Leaves the platform running across the tests of this block (they build on each other).
  beforeAll(async () => {
    tp = await startTestPlatform({ ARCHIVE_DIR: await mkdtemp(join(tmpdir(), 'lifecycle-ret-')) });
    db = tp.infra.db;
    store = createLocalStore(tp.config.archive.dir!);
    w = await world(db);
    oldOrders = await oldMonth(db, w, -3, 3);
    // Their audit rows are recent here (the audit job is tested on rows of its own).
    await db.query(
      `UPDATE order_events SET created_at = now() - interval '1 day' WHERE order_id = ANY($1::uuid[])`,
      [oldOrders.ids],
    );

    // Location history: two old days in day partitions, one recent day in the default partition.
    await db.query(
      `SELECT ensure_range_partitions('driver_location_history', 'day', $1::timestamptz, 2)`,
      [new Date(day10)],
    );
    const point = (t: number, lat: number, speed: number | null = 4) =>
      db.query(
        `INSERT INTO driver_location_history (driver_id, lat, lng, speed_mps, recorded_at)
         VALUES ($1, $2, 8.70, $3, $4)`,
        [w.driver, lat, speed, new Date(t)],
      );
    const start10 = day10 + 8 * HOUR_MS;
    for (let i = 0; i < 5; i++) await point(start10 + i * 60_000, 49.4 + i * 0.001, 3 + i);
    await point(start10 + 2 * HOUR_MS, 49.5); // after a long gap: counts as a point, not a step
    for (let i = 0; i < 3; i++) await point(day9 + 12 * HOUR_MS + i * 30_000, 49.41);
    await point(day2 + HOUR_MS, 49.42, null);
    // An old aggregate, archived long ago, due for deletion.
    await db.query(
      `INSERT INTO driver_location_daily (day, driver_id, points, distance_km, active_seconds, first_at, last_at)
       VALUES ($1::date, $2, 1, 0, 0, $3, $3)`,
      [isoDay(day40), w.driver, new Date(day40)],
    );
    await db.query(
      `INSERT INTO driver_location_rollups (day, drivers, points, archived_at) VALUES ($1::date, 1, 1, now())`,
      [isoDay(day40)],
    );

    // Idempotency keys, audit rows and notifications, old and fresh.
    await db.query(
      `INSERT INTO idempotency_keys (user_id, key, scope, request_hash, created_at)
       VALUES ($1, 'old', 'orders', 'h', now() - interval '25 hours'),
              ($1, 'fresh', 'orders', 'h', now() - interval '1 hour')`,
      [w.customer],
    );
    await db.query(
      `INSERT INTO order_events (order_id, to_status, actor_role, created_at) VALUES
         ($1, 'pending', 'customer', now() - interval '100 days'),
         ($1, 'confirmed', 'merchant', now() - interval '100 days' + interval '1 second'),
         ($1, 'pending', 'customer', now() - interval '1 day')`,
      [randomUUID()],
    );
    await db.query(
      `INSERT INTO notifications (user_id, type, title, body, created_at) VALUES
         ($1, 'order', 'Old', 'old', now() - interval '100 days'),
         ($1, 'order', 'New', 'new', now())`,
      [w.customer],
    );
    // Archive sets past their retention, and recent ones.
    for (const key of [
      'orders/2001-01/abc/manifest.json',
      'orders/2001-01/abc/orders.csv.gz',
      `audit/order_events/2001-01-01/abc/manifest.json`,
      `locations/${isoDay(today - 45 * DAY_MS)}/abc/manifest.json`,
      `orders/${monthKey(monthStart(-13))}/keep/manifest.json`,
      `locations/${isoDay(today - 3 * DAY_MS)}/keep/manifest.json`,
    ]) {
      await store.put(key, Buffer.from('{}'));
    }
  });

  afterAll(async () => {
    await tp?.stop();
    await rm(tp.config.archive.dir!, { recursive: true, force: true });
  });

  it('dry runs report what they would do and change nothing, in the database or the store', async () => {
    const before = await snapshot();
    const s = scheduler(tp);
    const reports = new Map<string, string>();
    for (const job of s.jobs) {
      const r = await s.run(job.name, { dryRun: true });
      expect(r.status, `${job.name}: ${r.error}`).toBe('succeeded');
      reports.set(job.name, r.summary!);
    }
    expect(await snapshot()).toEqual(before);
    expect(reports.get('orders-archive')).toBe('partitions: would-archive 1');
    expect(reports.get('idempotency-purge')).toBe('1 key(s) would be deleted');
    expect(reports.get('notifications-purge')).toBe('1 notification(s) would be deleted');
    expect(reports.get('audit-archive')).toMatch(/would-archive 1 \(2 row\(s\)\)/);
    expect(reports.get('location-retention')).toMatch(
      /^3 day\(s\) rolled up, .*2 raw partition\(s\) dropped/,
    );
    expect(reports.get('archive-expiry')).toBe('3 expired folder(s) would be deleted');
  });

  it('rolls location history up per driver and day, archives it, and drops raw days older than 7', async () => {
    const r = await scheduler(tp).run('location-retention', { force: true });
    expect(r.status, r.error).toBe('succeeded');

    const p10 = `driver_location_history_${isoDay(day10).replaceAll('-', '_')}`;
    const p9 = `driver_location_history_${isoDay(day9).replaceAll('-', '_')}`;
    expect(await relationExists(db, p10)).toBe(false);
    expect(await relationExists(db, p9)).toBe(false);
    expect(
      await count(db, `driver_location_history WHERE recorded_at < now() - interval '7 days'`),
    ).toBe(0);
    expect(await count(db, 'driver_location_history WHERE driver_id = $1', [w.driver])).toBe(1);

    const { rows } = await db.query<any>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, points, distance_km, active_seconds, max_speed_mps
         FROM driver_location_daily WHERE driver_id = $1 ORDER BY day`,
      [w.driver],
    );
    // Day 10: four one-minute steps of 0.001° latitude (~111 m each); the point two hours later
    // is beyond the active gap, so it adds neither distance nor time.
    expect(ACTIVE_GAP_SECONDS).toBeLessThan(2 * 3600);
    expect(rows).toEqual([
      {
        day: isoDay(day10),
        points: 6,
        distance_km: expect.closeTo(0.4448, 3),
        active_seconds: 240,
        max_speed_mps: 7,
      },
      { day: isoDay(day9), points: 3, distance_km: 0, active_seconds: 60, max_speed_mps: 4 },
      { day: isoDay(day2), points: 1, distance_km: 0, active_seconds: 0, max_speed_mps: null },
    ]);
    // The aggregate of 40 days ago is gone; every rolled-up day is in the store.
    expect(
      await count(db, 'driver_location_daily WHERE day < $1::date', [isoDay(today - 30 * DAY_MS)]),
    ).toBe(0);
    const archived = await db.query<{ day: string; archive_key: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, archive_key FROM driver_location_rollups ORDER BY day`,
    );
    expect(archived.rows.map((x) => x.day)).toEqual([isoDay(day10), isoDay(day9), isoDay(day2)]);
    for (const { day, archive_key } of archived.rows) {
      expect(archive_key).toMatch(new RegExp(`^locations/${day}/[0-9a-f]{16}$`));
      expect(await store.head(`${archive_key}/manifest.json`)).not.toBeNull();
    }

    // Idempotent: a second run finds nothing to do.
    const again = await scheduler(tp).run('location-retention', { force: true });
    expect(again.summary).toBe(
      '0 day(s) rolled up, 0 archived, 0 raw partition(s) dropped, 0 default-partition row(s) deleted, 0 aggregate day(s) deleted',
    );
  });

  it('purges idempotency keys older than 24 h and old notifications, keeping fresh ones', async () => {
    const s = scheduler(tp);
    expect((await s.run('idempotency-purge', { force: true })).summary).toBe('1 key(s) deleted');
    expect((await s.run('notifications-purge', { force: true })).summary).toBe(
      '1 notification(s) deleted',
    );
    const keys = await db.query<{ key: string }>(
      'SELECT key FROM idempotency_keys WHERE user_id = $1',
      [w.customer],
    );
    expect(keys.rows).toEqual([{ key: 'fresh' }]);
    expect(await count(db, 'notifications WHERE user_id = $1', [w.customer])).toBe(1);
    expect((await s.run('idempotency-purge', { force: true })).summary).toBe('0 key(s) deleted');
  });

  it('exports audit rows older than 90 days to the store, then deletes them', async () => {
    const r = await scheduler(tp).run('audit-archive', { force: true });
    expect(r.status, r.error).toBe('succeeded');
    expect(await count(db, `order_events WHERE created_at < now() - interval '90 days'`)).toBe(0);
    expect(
      await count(
        db,
        `order_events WHERE created_at > now() - interval '2 days' AND order_id <> ALL($1::uuid[])`,
        [oldOrders.ids],
      ),
    ).toBe(1);
    const manifests = (await store.list('audit/order_events/')).filter((o) =>
      o.key.endsWith('manifest.json'),
    );
    const fresh = manifests.filter((o) => !o.key.includes('2001-01-01'));
    expect(fresh).toHaveLength(1);
    const manifest = JSON.parse((await readObject(store, fresh[0]!.key))!.toString()) as Manifest;
    expect(manifest.objects[0]).toMatchObject({ table: 'order_events', rows: 2 });
  });

  it('deletes archive sets past their retention from the store', async () => {
    const r = await scheduler(tp).run('archive-expiry', { force: true });
    expect(r.summary).toBe('3 expired folder(s) deleted');
    const keys = (await store.list('')).map((o) => o.key);
    expect(keys.some((k) => k.includes('2001-01'))).toBe(false);
    expect(keys.some((k) => k.startsWith(`locations/${isoDay(today - 45 * DAY_MS)}`))).toBe(false);
    expect(keys).toEqual(
      expect.arrayContaining([
        `orders/${monthKey(monthStart(-13))}/keep/manifest.json`,
        `locations/${isoDay(today - 3 * DAY_MS)}/keep/manifest.json`,
      ]),
    );
  });

  it('runs from the command line: list, a dry run, and a restore that finds no archive', async () => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      LOG_LEVEL: 'warn',
      ARCHIVE_DIR: tp.config.archive.dir!,
    };
    if (tp.config.databaseUrl) {
      env.DATABASE_URL = tp.config.databaseUrl;
      env.REDIS_URL = tp.config.redisUrl!;
      env.REDIS_PREFIX = tp.config.redisPrefix;
    } else {
      delete env.DATABASE_URL;
      delete env.REDIS_URL;
      env.DATA_DIR = await tempDir();
    }
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', join(REPO_ROOT, 'server/src/jobs/cli.ts'), ...args],
          { cwd: REPO_ROOT, env, timeout: 60_000 },
          (err, stdout, stderr) =>
            resolve({
              code: err ? Number((err as { code?: number }).code ?? 1) : 0,
              stdout,
              stderr,
            }),
        );
      });
    const runsBefore = await count(db, 'job_runs');

    const list = await run('list');
    expect(list.code, list.stderr).toBe(0);
    for (const job of scheduler(tp).jobs) expect(list.stdout).toContain(job.name);

    const dry = await run('orders-archive', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('orders-archive (dry run): succeeded');
    if (tp.config.databaseUrl) {
      expect(dry.stdout).toContain('would-archive');
      expect(await count(db, 'job_runs')).toBe(runsBefore);
      expect(await relationExists(db, oldOrders.partition)).toBe(true);
    }

    const restore = await run('restore', '1999-01');
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/no archive of 1999-01/);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe('scheduler', () => {
  const counting = (everyMs: number) => {
    const state = { runs: 0, finished: 0 };
    const job: Job = {
      name: 'count',
      description: 'counts its runs',
      everyMs,
      async run(ctx) {
        state.runs++;
        await new Promise((r) => setTimeout(r, 150));
        await ctx.checkpoint();
        state.finished++;
        return { summary: `run ${state.runs}` };
      },
    };
    return { job, state };
  };

  /** A second instance's leases: its own Redis connections on the same prefix, or (embedded)
   * the one in-process lease manager, which is what one embedded server has. */
  async function otherLeases(tp: TestPlatform): Promise<KeyValueAdapters['leases']> {
    if (!REDIS_URL) return tp.infra.kv.leases;
    const kv = createRedisAdapters({ url: REDIS_URL, prefix: tp.config.redisPrefix });
    cleanups.push(() => kv.close());
    return kv.leases;
  }

  it('runs a due job once when two schedulers race, and not again until it is due', async () => {
    const tp = await platform();
    const { job, state } = counting(HOUR_MS);
    const a = scheduler(tp, { jobs: [job], holder: 'instance-a' });
    const b = scheduler(tp, { jobs: [job], holder: 'instance-b', leases: await otherLeases(tp) });

    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);

    expect(state.runs).toBe(1);
    const statuses = [...ra, ...rb].map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(1);
    await Promise.all([a.tick(), b.tick()]);
    expect(state.runs).toBe(1);
    const runs = await tp.infra.db.query<{ status: string; holder: string }>(
      `SELECT status, holder FROM job_runs WHERE job = 'count'`,
    );
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0]!.status).toBe('succeeded');
  });

  it('runs on its own timer, once per interval across instances', async () => {
    const tp = await platform();
    const { job, state } = counting(2_500);
    const a = scheduler(tp, { jobs: [job], holder: 'timer-a' });
    const b = scheduler(tp, { jobs: [job], holder: 'timer-b', leases: await otherLeases(tp) });
    a.start(50);
    b.start(50);
    await waitFor(() => state.runs === 1);
    // Both keep ticking every 50 ms, but the job is not due again for 2.5 s.
    await sleep(500);
    expect(state.runs).toBe(1);
    await waitFor(() => state.finished === 2);
    await Promise.all([a.stop(), b.stop()]);
    expect(state.runs).toBe(2);
    const runs = await tp.infra.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM job_runs WHERE job = 'count' AND status = 'succeeded'`,
    );
    expect(runs.rows[0]!.n).toBe(2);
  }, 60_000);

  it('leaves out the jobs that need an archive store when none is configured', async () => {
    const tp = await startTestPlatform({ JOBS_ENABLED: 'true', JOBS_TICK_MS: '1000' });
    cleanups.push(() => tp.stop());
    expect(tp.config.archive.dir).toBeUndefined();
    const succeeded = async () =>
      (
        await tp.infra.db.query<{ job: string }>(
          `SELECT DISTINCT job FROM job_runs WHERE status = 'succeeded' ORDER BY job`,
        )
      ).rows.map((r) => r.job);
    const deadline = Date.now() + 45_000;
    while ((await succeeded()).length < 5 && Date.now() < deadline) await sleep(250);
    await sleep(1_500); // another tick
    expect(await succeeded()).toEqual([
      'idempotency-purge',
      'notifications-purge',
      'partitions',
      'rebuild-geo',
      'stuck-orders',
    ]);
    expect(await count(tp.infra.db, `job_runs WHERE status <> 'succeeded'`)).toBe(0);
  }, 60_000);

  it('stops a running job at its next checkpoint on shutdown, and records the run failed', async () => {
    const tp = await platform();
    let steps = 0;
    const job: Job = {
      name: 'long',
      description: 'loops until told to stop',
      everyMs: HOUR_MS,
      async run(ctx) {
        for (;;) {
          await ctx.checkpoint();
          steps++;
          await sleep(20);
        }
      },
    };
    const s = scheduler(tp, { jobs: [job] });
    s.start(20);
    await waitFor(() => steps > 2);
    await s.stop();
    const { rows } = await tp.infra.db.query(
      `SELECT status, error FROM job_runs WHERE job = 'long'`,
    );
    expect(rows).toEqual([{ status: 'failed', error: 'shutting down; stopping' }]);
    expect(await tp.infra.kv.leases.holder('job:long')).toBeNull();
  });

  it('refuses to run a job whose lease another instance holds', async () => {
    const tp = await platform();
    const { job, state } = counting(HOUR_MS);
    expect(await tp.infra.kv.leases.acquire('job:count', 'someone-else', 30_000)).toBe(true);
    const report = await scheduler(tp, { jobs: [job] }).run('count', { force: true });
    expect(report.status).toBe('busy');
    expect(state.runs).toBe(0);
    await tp.infra.kv.leases.release('job:count', 'someone-else');
  });

  it('is started by the server when JOBS_ENABLED, and runs every job, the ops jobs included', async () => {
    const tp = await platform({ JOBS_ENABLED: 'true', JOBS_TICK_MS: '1000' });
    const deadline = Date.now() + 45_000;
    let jobs: string[] = [];
    while (Date.now() < deadline) {
      const { rows } = await tp.infra.db.query<{ job: string }>(
        `SELECT DISTINCT job FROM job_runs WHERE status = 'succeeded' ORDER BY job`,
      );
      jobs = rows.map((r) => r.job);
      if (jobs.length === 9) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(jobs).toEqual([
      'archive-expiry',
      'audit-archive',
      'idempotency-purge',
      'location-retention',
      'notifications-purge',
      'orders-archive',
      'partitions',
      'rebuild-geo',
      'stuck-orders',
    ]);
  }, 60_000);
});
