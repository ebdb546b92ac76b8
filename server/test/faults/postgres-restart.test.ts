import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../platform.ts';
import * as h from './harness.ts';

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary folder) under one server
 * process, stopped with `pg_ctl stop -m fast` while orders are being placed, and started again.
 * Meanwhile requests must fail fast with 503; afterwards the server must work again without a
 * restart, and every order request must have left either a whole order or nothing.
 */
const NAME = 'postgres';

let cluster: h.PgCluster | undefined;
let db: h.TestDatabase | undefined;
let s: h.ServerProcess | undefined;
let prefix = '';

beforeAll(async () => {
  if (!h.realMode) return;
  cluster = await h.startPgCluster();
  db = await h.createDatabase(cluster.adminUrl, 'pg');
  prefix = h.redisPrefixFor('pg');
  s = await h.startServer(
    's',
    { databaseUrl: db.url, redisUrl: process.env.REDIS_URL!, redisPrefix: prefix },
    NAME,
  );
}, 120_000);

afterAll(async () => {
  await s?.stop(5_000);
  await db?.pool.end().catch(() => undefined);
  cluster?.remove(); // the cluster's databases go with it
  if (prefix) await deleteRedisPrefix(process.env.REDIS_URL!, prefix).catch(() => undefined);
  await h.cleanupAll();
}, 60_000);

interface Sent {
  key: string;
  startedAt: number;
  endedAt: number;
  status: number;
  ms: number;
  code?: string;
}

describe.skipIf(!h.realMode)('PostgreSQL stops and starts again under a running server', () => {
  it('answers 503 fast meanwhile, half-writes nothing and recovers by itself', async () => {
    const rec = h.newRecord(
      'postgres-restart',
      'pg_ctl stop -m fast of the server’s PostgreSQL while orders were being placed, ~3 s down, then pg_ctl start',
    );
    const server = s!;
    const store = await h.createStore(server.url, db!.pool);
    const customer = await h.register(server.url, 'customer');
    const sent: Sent[] = [];
    const reads: Array<{ status: number; ms: number; at: number }> = [];
    const readiness: Array<{ status: number; ms: number; at: number }> = [];
    let running = true;
    const loops: Array<Promise<void>> = [];
    try {
      for (let lane = 0; lane < 3; lane++) {
        loops.push(
          (async () => {
            for (let i = 0; running; i++) {
              const key = `pg-${lane}-${i}-${h.suffix()}`;
              const startedAt = Date.now();
              const res = await h.placeOrder(server.url, customer, store, key);
              sent.push({
                key,
                startedAt,
                endedAt: Date.now(),
                status: res.status,
                ms: res.ms,
                code: res.body?.error?.code,
              });
              await h.sleep(20);
            }
          })(),
        );
      }
      loops.push(
        (async () => {
          while (running) {
            const r = await h.call(server.url, 'GET', '/api/v1/orders', { token: customer.token });
            reads.push({ status: r.status, ms: r.ms, at: Date.now() });
            const ready = await h.call(server.url, 'GET', '/health/ready');
            readiness.push({ status: ready.status, ms: ready.ms, at: Date.now() });
            await h.sleep(50);
          }
        })(),
      );
      await h.waitFor(
        'orders being placed',
        async () => sent.filter((x) => x.status === 201).length >= 10,
      );

      // One order certainly in the middle of its transaction at the stop: its store's row is
      // locked, so it waits inside the transaction (idempotency key taken, order not yet written).
      const otherStore = await h.createStore(server.url, db!.pool);
      const locker = new pg.Client({ connectionString: db!.url });
      locker.on('error', () => undefined); // dies with the cluster
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE', [otherStore.id]);
      const blockedKey = `pg-blocked-${h.suffix()}`;
      const blocked = h.placeOrder(server.url, customer, otherStore, blockedKey);
      await h.waitFor('the order waiting inside its transaction', async () => {
        const { rows } = await db!.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0]!.n >= 1;
      });

      const stopAt = Date.now();
      await cluster!.stop('fast');
      const stoppedAt = Date.now();
      await h.sleep(3_000);
      const startAt = Date.now();
      await cluster!.start();
      const startedAt = Date.now();
      await h.waitFor(
        '/health/ready 200 again',
        async () => (await h.call(server.url, 'GET', '/health/ready')).status === 200,
        30_000,
        25,
      );
      const readyAt = Date.now();
      const blockedAnswer = await blocked;
      await locker.end().catch(() => undefined);
      // Its retry runs at once: a request that died mid-transaction leaves no claim behind.
      const blockedRetry = await h.placeOrder(server.url, customer, otherStore, blockedKey);
      await h.waitFor(
        'an order placed again',
        async () => sent.some((x) => x.startedAt > startedAt && x.status === 201),
        30_000,
        25,
      );
      const orderOkAt = Date.now();
      running = false;
      await Promise.all(loops);

      // While it was down: every answer a 503 (or an order that committed before the stop).
      const during = (x: { startedAt?: number; at?: number }) => {
        const t = x.startedAt ?? x.at!;
        return t >= stoppedAt && t < startAt;
      };
      const down = sent.filter(during);
      const downReads = reads.filter((r) => r.at >= stoppedAt && r.at < startAt);
      const downReady = readiness.filter((r) => r.at >= stoppedAt && r.at < startAt);
      const inFlight = sent.filter((x) => x.startedAt < stopAt && x.endedAt > stopAt);

      // The client retries every order that got no 201, with its key, until it is accepted.
      const retried: number[] = [];
      for (const x of sent.filter((y) => y.status !== 201)) {
        const res = await h.waitFor(
          `order ${x.key} accepted on retry`,
          async () => {
            const r = await h.placeOrder(server.url, customer, store, x.key);
            return r.status === 201 ? r : null;
          },
          15_000,
          100,
        );
        retried.push(res.status);
      }

      const pool = db!.pool;
      const keys = [...sent.map((x) => x.key), blockedKey];
      const completed = await pool.query<{ order_id: string }>(
        `SELECT response_body->'order'->>'id' AS order_id FROM idempotency_keys
         WHERE user_id = $1 AND key = ANY($2::text[]) AND status = 'completed'`,
        [customer.id, keys],
      );
      const orders = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM orders WHERE customer_id = $1',
        [customer.id],
      );
      const half = await h.halfWrittenOrders(pool, customer.id);
      const downStatuses = [...new Set(down.map((x) => x.status))].sort();
      const lat503 = h.latencyStats(
        [...down, ...downReads].filter((x) => x.status === 503).map((x) => x.ms),
      );

      rec.recoveredInMs = readyAt - startedAt;
      rec.ordersLost = keys.length - completed.rows.length;
      rec.ordersDuplicated = Math.max(0, orders.rows[0]!.n - keys.length);
      rec.details = {
        summary: `down ${h.seconds(startAt - stopAt)}: ${down.length + downReads.length} requests answered ${[...new Set([...downStatuses, ...downReads.map((r) => r.status)])].join('/')} in at most ${lat503.maxMs} ms (p50 ${lat503.p50Ms} ms); ready ${readyAt - startedAt} ms after PostgreSQL accepted connections; the order inside its transaction at the stop answered ${blockedAnswer.status}, its retry ${blockedRetry.status}; ${inFlight.length} more in flight: ${inFlight.map((x) => x.status).join(',') || 'none'}`,
        stopTookMs: stoppedAt - stopAt,
        downForMs: startAt - stopAt,
        startTookMs: startedAt - startAt,
        readyAfterStartMs: readyAt - startedAt,
        firstOrderAfterStartMs: orderOkAt - startedAt,
        recoveredMeans: 'time from PostgreSQL accepting connections again to /health/ready 200',
        ordersSentWhileDown: down.length,
        statusesWhileDown: downStatuses,
        readsWhileDown: downReads.length,
        readinessWhileDown: [...new Set(downReady.map((r) => r.status))],
        latency503: lat503,
        inFlightAtStop: inFlight.map((x) => ({ status: x.status, code: x.code ?? null })),
        orderInsideTransactionAtStop: {
          answer: blockedAnswer.status,
          code: blockedAnswer.body?.error?.code ?? null,
          ms: Math.round(blockedAnswer.ms),
          firstRetry: blockedRetry.status,
        },
        retriedStatuses: [...new Set(retried)],
        ordersPlaced: orders.rows[0]!.n,
        orderKeys: keys.length,
        halfWritten: half.length,
      };

      expect(down.length).toBeGreaterThan(5);
      expect(down.every((x) => x.status === 503)).toBe(true);
      expect(downReads.every((r) => r.status === 503)).toBe(true);
      expect(downReady.every((r) => r.status === 503)).toBe(true);
      expect(lat503.maxMs!).toBeLessThan(2_000); // pool connect timeout 5 s, health check 2 s
      expect(inFlight.every((x) => [201, 503].includes(x.status))).toBe(true);
      expect(blockedAnswer.status).toBe(503);
      expect(blockedRetry.status).toBe(201);
      expect(retried.every((st) => st === 201)).toBe(true);
      expect(half).toEqual([]);
      expect(rec.ordersLost).toBe(0);
      expect(orders.rows[0]!.n).toBe(keys.length);
      expect(readyAt - startedAt).toBeLessThan(10_000);
      expect(server.child.exitCode).toBeNull();
      rec.passed = true;
    } finally {
      running = false;
      await Promise.allSettled(loops);
      if (!cluster!.running()) await cluster!.start().catch(() => undefined);
      h.recordFault(rec);
    }
  }, 90_000);
});
