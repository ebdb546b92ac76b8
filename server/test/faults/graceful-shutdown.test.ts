import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../platform.ts';
import { connectWs } from '../ws-client.ts';
import * as h from './harness.ts';

/**
 * SIGTERM to a server process with two requests in flight, each inside a transaction that waits
 * on a row lock the test holds (a real slow path: lock contention, no test-only code), and a
 * WebSocket open. The server must stop accepting connections at once, close the socket with 1012
 * ("service restart": reconnect elsewhere), finish both requests once the locks go, and exit 0.
 */
const NAME = 'shutdown';

let db: h.TestDatabase | undefined;
let s: h.ServerProcess | undefined;
let prefix = '';

beforeAll(async () => {
  if (!h.realMode) return;
  db = await h.createDatabase(process.env.DATABASE_URL!, 'term');
  prefix = h.redisPrefixFor('term');
  s = await h.startServer(
    's',
    { databaseUrl: db.url, redisUrl: process.env.REDIS_URL!, redisPrefix: prefix },
    NAME,
  );
}, 90_000);

afterAll(async () => {
  await s?.stop(5_000);
  await db?.drop().catch(() => undefined);
  if (prefix) await deleteRedisPrefix(process.env.REDIS_URL!, prefix).catch(() => undefined);
  await h.cleanupAll();
}, 60_000);

describe.skipIf(!h.realMode)('graceful shutdown on SIGTERM', () => {
  it('refuses new connections, closes sockets with 1012, finishes in-flight transactions, exits 0', async () => {
    const rec = h.newRecord(
      'graceful-shutdown',
      'SIGTERM with an order placement and a merchant confirmation in flight (each blocked on a row lock inside its transaction) and a WebSocket open',
    );
    const server = s!;
    const pool = db!.pool;
    const locker = new pg.Client({ connectionString: db!.url });
    await locker.connect();
    let locked = false;
    try {
      const store = await h.createStore(server.url, pool);
      const customer = await h.register(server.url, 'customer');
      const placed = await h.placeOrder(server.url, customer, store, `term-first-${h.suffix()}`);
      expect(placed.status).toBe(201);
      const orderId = placed.body.order.id as string;

      const ws = await connectWs(server.url, { token: customer.token });
      ws.send({ type: 'subscribe', channel: `order:${orderId}` });
      await ws.next((m) => m.type === 'subscribed');

      // Hold the store's row and the order's row: a new order (FOR SHARE on its store) and the
      // confirmation (UPDATE of the order) will wait inside their transactions.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE', [store.id]);
      await locker.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
      locked = true;
      let confirmDone = 0;
      let secondDone = 0;
      const confirm = h
        .call(server.url, 'POST', `/api/v1/merchant/orders/${orderId}/confirm`, {
          token: store.owner.token,
          timeoutMs: 30_000,
        })
        .finally(() => (confirmDone = Date.now()));
      const secondKey = `term-second-${h.suffix()}`;
      const second = h
        .placeOrder(server.url, customer, store, secondKey)
        .finally(() => (secondDone = Date.now()));
      await h.waitFor('both requests waiting on the locks', async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0]!.n >= 2;
      });

      const termAt = Date.now();
      server.signal('SIGTERM');
      const wsClosed = ws.closed.then((c) => ({ ...c, ms: Date.now() - termAt }));
      // A connection caught in the listen backlog as the socket closes is reset (ECONNRESET);
      // from then on the port refuses (ECONNREFUSED). Either way no request is served.
      const probes: Array<string | number> = [];
      const refused = await h.waitFor(
        'new connections refused',
        async () => {
          const r = await h.call(server.url, 'GET', '/health', { timeoutMs: 1_000 });
          probes.push(r.status || (r.error ?? 'error'));
          return r.error === 'ECONNREFUSED' ? { code: r.error, ms: Date.now() - termAt } : null;
        },
        5_000,
        20,
      );
      const closed = await wsClosed;
      const stillInFlight = confirmDone === 0 && secondDone === 0;
      await h.sleep(1_000); // in-flight work keeps the process up meanwhile
      const aliveWhileInFlight = server.child.exitCode === null && server.child.signalCode === null;

      const releaseAt = Date.now();
      await locker.query('COMMIT');
      locked = false;
      const [confirmed, placedDuring] = await Promise.all([confirm, second]);
      const exit = await server.exited;
      const exitedAt = Date.now();

      const order = await pool.query<{ status: string; events: number }>(
        `SELECT status, (SELECT count(*)::int FROM order_events e
           WHERE e.order_id = o.id AND e.to_status = 'confirmed') AS events
         FROM orders o WHERE id = $1`,
        [orderId],
      );
      const secondOrder =
        placedDuring.status === 201
          ? await pool.query<{ items: number }>(
              `SELECT (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS items
               FROM orders o WHERE id = $1`,
              [placedDuring.body.order.id],
            )
          : null;

      rec.recoveredInMs = null;
      rec.outcome = `exited ${exit.code} ${h.seconds(exitedAt - termAt)} after SIGTERM`;
      rec.details = {
        summary: `new connections refused after ${refused.ms} ms (${refused.code}), WebSocket closed ${closed.code} after ${closed.ms} ms, both in-flight requests finished (${confirmed.status}, ${placedDuring.status}) once their locks were released, exit ${exitedAt - releaseAt} ms later`,
        exitCode: exit.code,
        exitSignal: exit.signal,
        refusedAfterMs: refused.ms,
        refusedWith: refused.code,
        probesAfterSigterm: probes,
        wsCloseCode: closed.code,
        wsClosedAfterMs: closed.ms,
        inFlightWhenRefused: stillInFlight,
        aliveWhileInFlight,
        inFlightStatuses: [confirmed.status, placedDuring.status],
        finishedAfterLockReleaseMs: Math.max(confirmDone, secondDone) - releaseAt,
        exitAfterLockReleaseMs: exitedAt - releaseAt,
        shutdownMs: exitedAt - termAt,
      };
      rec.ordersLost = placedDuring.status === 201 && secondOrder?.rows[0]?.items ? 0 : 1;

      expect(refused.code).toBe('ECONNREFUSED');
      // Before the signal is handled /health may still answer; after the first failure, none.
      const firstFailure = probes.findIndex((p) => typeof p === 'string');
      expect(probes.slice(firstFailure).every((p) => typeof p === 'string')).toBe(true);
      expect(stillInFlight).toBe(true);
      expect(aliveWhileInFlight).toBe(true);
      expect(closed.code).toBe(1012);
      expect(confirmed.status).toBe(200);
      expect(placedDuring.status).toBe(201);
      expect(secondOrder?.rows[0]?.items).toBeGreaterThan(0);
      expect(order.rows[0]).toEqual({ status: 'confirmed', events: 1 });
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await h.halfWrittenOrders(pool, customer.id)).toEqual([]);
      rec.passed = true;
    } finally {
      if (locked) await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end().catch(() => undefined);
      h.recordFault(rec);
    }
  }, 60_000);
});
