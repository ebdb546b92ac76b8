import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../platform.ts';
import * as h from './harness.ts';

/**
 * Two server processes on one PostgreSQL database and one Redis prefix, both sweeping for
 * dispatch work. Offers are pending and orders are being placed when server A is SIGKILLed in
 * the middle of a transaction; server B must finish every dispatch, and every order request
 * that was in flight must end as exactly one order when the client retries it on B.
 */
const NAME = 'kill-dispatch';
const A_APP = `fault-kill-a-${h.suffix()}`;

let db: h.TestDatabase | undefined;
let a: h.ServerProcess | undefined;
let b: h.ServerProcess | undefined;
let prefix = '';

beforeAll(async () => {
  if (!h.realMode) return;
  db = await h.createDatabase(process.env.DATABASE_URL!, 'kill');
  prefix = h.redisPrefixFor('kill');
  const urlA = new URL(db.url);
  urlA.searchParams.set('application_name', A_APP); // to see A's transactions in pg_stat_activity
  const env = (databaseUrl: string) => ({
    databaseUrl,
    redisUrl: process.env.REDIS_URL!,
    redisPrefix: prefix,
  });
  [a, b] = await Promise.all([
    h.startServer('a', env(urlA.toString()), NAME),
    h.startServer('b', env(db.url), NAME),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(5_000), b?.stop(5_000)]);
  await db?.drop().catch(() => undefined);
  if (prefix) await deleteRedisPrefix(process.env.REDIS_URL!, prefix).catch(() => undefined);
  await h.cleanupAll();
}, 60_000);

describe.skipIf(!h.realMode)('SIGKILL of a server process in the middle of dispatch', () => {
  it('lets the other instance finish: no order lost, none assigned twice, no offer duplicated', async () => {
    const rec = h.newRecord(
      NAME,
      'SIGKILL of server A (one of two sweeping instances) inside a transaction, with offers pending and orders being placed',
    );
    const pool = db!.pool;
    const loops: Array<Promise<unknown>> = [];
    let running = true;
    try {
      const store = await h.createStore(a!.url, pool);
      const customer = await h.register(a!.url, 'customer');
      const drivers: h.User[] = [];
      for (let i = 0; i < 6; i++) {
        const d = await h.register(b!.url, 'driver');
        const online = await h.call(b!.url, 'POST', '/api/v1/driver/go-online', {
          token: d.token,
          body: h.north(0.2 + i * 0.15),
        });
        expect(online.status).toBe(200);
        drivers.push(d);
      }
      const tokenOf = new Map(drivers.map((d) => [d.id, d.token]));

      // At most one pending offer per order and per driver, at every sample, kill included.
      let samples = 0;
      let maxPerOrder = 0;
      let maxPerDriver = 0;
      loops.push(
        (async () => {
          while (running) {
            const { rows } = await pool.query<{ per_order: number; per_driver: number }>(
              `SELECT
                 (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) n FROM driver_offers
                   WHERE status = 'pending' GROUP BY order_id) o) AS per_order,
                 (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) n FROM driver_offers
                   WHERE status = 'pending' GROUP BY driver_id) d) AS per_driver`,
            );
            samples += 1;
            maxPerOrder = Math.max(maxPerOrder, rows[0]!.per_order);
            maxPerDriver = Math.max(maxPerDriver, rows[0]!.per_driver);
            await h.sleep(20);
          }
        })(),
      );

      // Five orders confirmed on A: A's own kick makes their first offers at once.
      const orders: string[] = [];
      for (let i = 0; i < 5; i++) {
        const placed = await h.placeOrder(a!.url, customer, store, `dispatch-${i}-${h.suffix()}`);
        expect(placed.status).toBe(201);
        const id = placed.body.order.id as string;
        const confirmed = await h.call(a!.url, 'POST', `/api/v1/merchant/orders/${id}/confirm`, {
          token: store.owner.token,
        });
        expect(confirmed.status).toBe(200);
        orders.push(id);
      }
      await h.waitFor('a pending offer for every order', async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(DISTINCT order_id)::int AS n FROM driver_offers
           WHERE status = 'pending' AND order_id = ANY($1::uuid[])`,
          [orders],
        );
        return rows[0]!.n === orders.length;
      });

      // Drivers ignore every offer made before the kill, so those must expire and be re-offered
      // to someone else by B; offers made after the kill are accepted (on B).
      let killAt = 0;
      const acceptStatuses: number[] = [];
      loops.push(
        (async () => {
          while (running) {
            if (killAt) {
              const { rows } = await pool.query<{ id: string; driver_id: string }>(
                `SELECT id, driver_id FROM driver_offers WHERE status = 'pending'
                 AND order_id = ANY($1::uuid[]) AND offered_at > $2`,
                [orders, new Date(killAt)],
              );
              for (const o of rows) {
                const res = await h.call(b!.url, 'POST', `/api/v1/driver/offers/${o.id}/accept`, {
                  token: tokenOf.get(o.driver_id)!,
                });
                acceptStatuses.push(res.status);
              }
            }
            await h.sleep(50);
          }
        })(),
      );

      // Orders keep being placed on A until it dies; each key remembers its first answer.
      const placer = await h.register(a!.url, 'customer');
      const firstAnswer = new Map<string, h.Answer>();
      for (let lane = 0; lane < 2; lane++) {
        loops.push(
          (async () => {
            for (let i = 0; running; i++) {
              const key = `kill-${lane}-${i}-${h.suffix()}`;
              const res = await h.placeOrder(a!.url, placer, store, key);
              firstAnswer.set(key, res);
              if (res.status === 0) return; // A is gone
            }
          })(),
        );
      }

      await h.waitFor('orders being placed on A', async () => firstAnswer.size >= 6);

      // Kill A while one of its connections is inside a transaction, a dispatch one if we catch it.
      const inTransaction = async (dispatchOnly: boolean) => {
        const { rows } = await pool.query<{ query: string }>(
          `SELECT query FROM pg_stat_activity
           WHERE application_name = $1 AND xact_start IS NOT NULL AND state <> 'idle'
             AND ($2 = false OR query ~ '(dispatch_|driver_offers|needs_attention)')
           LIMIT 1`,
          [A_APP, dispatchOnly],
        );
        return rows[0]?.query ?? null;
      };
      let caught: string | null = null;
      for (const [dispatchOnly, ms] of [
        [true, 4_000],
        [false, 2_000],
      ] as const) {
        caught = await h
          .waitFor('A inside a transaction', () => inTransaction(dispatchOnly), ms, 1)
          .catch(() => null);
        if (caught) break;
      }
      const pendingAtKill = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM driver_offers WHERE status = 'pending' AND order_id = ANY($1::uuid[])`,
        [orders],
      );
      killAt = Date.now();
      a!.signal('SIGKILL');
      const exit = await a!.exited;
      expect(exit.signal).toBe('SIGKILL');

      await h.waitFor(
        'every order assigned by B',
        async () => {
          const { rows } = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND driver_id IS NOT NULL`,
            [orders],
          );
          return rows[0]!.n === orders.length;
        },
        30_000,
        50,
      );
      rec.recoveredInMs = Date.now() - killAt;

      // The client retries every order request that got no answer, on B, with the same key.
      const unanswered = [...firstAnswer].filter(([, r]) => r.status === 0).map(([k]) => k);
      const retryStatuses: number[] = [];
      for (const key of unanswered) {
        const res = await h.placeOrder(b!.url, placer, store, key);
        retryStatuses.push(res.status);
        firstAnswer.set(key, res);
      }
      running = false;
      await Promise.all(loops);

      // Placement: one order per key, no more, no less, none half-written.
      const keys = [...firstAnswer.keys()];
      const placed = await pool.query<{ id: string }>(
        'SELECT id FROM orders WHERE customer_id = $1',
        [placer.id],
      );
      const answered = new Set(
        [...firstAnswer.values()].filter((r) => r.status === 201).map((r) => r.body.order.id),
      );
      const inDb = new Set(placed.rows.map((r) => r.id));
      const lostPlacements = [...answered].filter((id) => !inDb.has(id)).length;
      const extraPlacements = placed.rows.length - answered.size;

      // Dispatch: one assignment per order, matching its one accepted offer; no pair twice.
      const perOrder = await pool.query<{
        id: string;
        driver_id: string | null;
        accepted: number;
        accepted_driver: string | null;
        assigned_events: number;
      }>(
        `SELECT o.id, o.driver_id,
           (SELECT count(*)::int FROM driver_offers f WHERE f.order_id = o.id AND f.status = 'accepted') AS accepted,
           (SELECT min(f.driver_id::text) FROM driver_offers f WHERE f.order_id = o.id AND f.status = 'accepted') AS accepted_driver,
           (SELECT count(*)::int FROM order_events e WHERE e.order_id = o.id AND e.reason = 'driver assigned') AS assigned_events
         FROM orders o WHERE o.id = ANY($1::uuid[])`,
        [orders],
      );
      const pairs = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT order_id, driver_id FROM driver_offers
           WHERE order_id = ANY($1::uuid[]) GROUP BY order_id, driver_id HAVING count(*) > 1) x`,
        [orders],
      );
      const load = await pool.query<{ id: string; active_orders: number; carrying: number }>(
        `SELECT d.id, d.active_orders,
           (SELECT count(*)::int FROM orders o WHERE o.driver_id = d.id) AS carrying
         FROM drivers d WHERE d.id = ANY($1::uuid[])`,
        [drivers.map((d) => d.id)],
      );
      const offersAfterKill = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM driver_offers WHERE order_id = ANY($1::uuid[]) AND offered_at > $2`,
        [orders, new Date(killAt)],
      );

      const unassigned = perOrder.rows.filter((r) => r.driver_id === null).length;
      const doubled = perOrder.rows.filter(
        (r) => r.accepted !== 1 || r.assigned_events !== 1 || r.accepted_driver !== r.driver_id,
      ).length;
      rec.ordersLost = unassigned + lostPlacements;
      rec.ordersDuplicated = doubled + Math.max(0, extraPlacements) + pairs.rows[0]!.n;
      rec.details = {
        summary: `killed inside ${caught ? 'a transaction' : 'no transaction'}; ${unanswered.length} order requests in flight, retried on B: ${retryStatuses.join(',') || 'none'}`,
        killedDuring: caught?.replace(/\s+/g, ' ').slice(0, 120) ?? null,
        pendingOffersAtKill: pendingAtKill.rows[0]!.n,
        offersMadeAfterKill: offersAfterKill.rows[0]!.n,
        acceptStatuses,
        invariantSamples: samples,
        maxPendingOffersPerOrder: maxPerOrder,
        maxPendingOffersPerDriver: maxPerDriver,
        ordersPlaced: placed.rows.length,
        orderKeys: keys.length,
        unansweredAtKill: unanswered.length,
        retryStatuses,
        duplicatePairs: pairs.rows[0]!.n,
      };

      expect(pendingAtKill.rows[0]!.n).toBeGreaterThan(0);
      expect(offersAfterKill.rows[0]!.n).toBeGreaterThanOrEqual(orders.length); // B re-offered
      expect(perOrder.rows).toHaveLength(orders.length);
      expect(unassigned).toBe(0);
      expect(doubled).toBe(0);
      expect(pairs.rows[0]!.n).toBe(0);
      expect(maxPerOrder).toBeLessThanOrEqual(1);
      expect(maxPerDriver).toBeLessThanOrEqual(1);
      expect(samples).toBeGreaterThan(10);
      for (const d of load.rows) expect(d.active_orders).toBe(d.carrying);
      expect(acceptStatuses.every((s) => s === 200 || s === 409)).toBe(true);
      expect(retryStatuses.every((s) => s === 201)).toBe(true);
      expect(lostPlacements).toBe(0);
      expect(placed.rows.length).toBe(keys.length);
      expect(await h.halfWrittenOrders(pool, placer.id)).toEqual([]);
      expect((await h.call(b!.url, 'GET', '/health/ready')).status).toBe(200);
      rec.passed = true;
    } finally {
      running = false;
      await Promise.allSettled(loops);
      h.recordFault(rec);
    }
  }, 90_000);
});
