import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAdapters } from '../../src/adapters/redis/index.ts';
import type { KeyValueAdapters } from '../../src/adapters/ports.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/db.ts';
import { rebuildGeoIndex } from '../../src/ops/rebuild-geo.ts';
import { systemClock } from '../../src/platform/clock.ts';
import * as h from './harness.ts';

/**
 * A Redis server of the test's own under one server process: its data is flushed, then the
 * process is killed and started again empty. The server is never restarted. Sessions live in
 * PostgreSQL (Redis is their cache), the geo index fills again from drivers' next location
 * updates (or from PostgreSQL with the rebuild command), orders keep being placed or are refused
 * with 503 and then accepted again, and the matching breaker opens and closes by itself.
 */
const NAME = 'redis';
const PREFIX = 'fault:';

let redis: h.RedisProcess | undefined;
let db: h.TestDatabase | undefined;
let s: h.ServerProcess | undefined;
let store: h.Store;
let customer: h.User;
let driver: h.User;
const DRIVER_AT = h.north(0.3);

beforeAll(async () => {
  if (!h.realMode) return;
  redis = await h.startRedisServer();
  db = await h.createDatabase(process.env.DATABASE_URL!, 'redis');
  s = await h.startServer(
    's',
    {
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: PREFIX,
      extra: { DISPATCH_BREAKER_RESET_MS: '1000' },
    },
    NAME,
  );
  store = await h.createStore(s.url, db.pool);
  customer = await h.register(s.url, 'customer');
  driver = await h.register(s.url, 'driver');
  const online = await h.call(s.url, 'POST', '/api/v1/driver/go-online', {
    token: driver.token,
    body: DRIVER_AT,
  });
  expect(online.status).toBe(200);
}, 90_000);

afterAll(async () => {
  await s?.stop(5_000);
  await db?.drop().catch(() => undefined);
  await redis?.kill();
  await h.cleanupAll();
}, 60_000);

const me = (token: string) => h.call(s!.url, 'GET', '/api/v1/auth/me', { token });
const ready = () => h.call(s!.url, 'GET', '/health/ready', { timeoutMs: 5_000 });

/** The matching breaker's events so far, from the process's Prometheus counters. */
interface BreakerEvents {
  open: number;
  halfOpen: number;
  close: number;
  failure: number;
  reject: number;
  [event: string]: number;
}

async function breakerEvents(): Promise<BreakerEvents> {
  const res = await h.call(s!.url, 'GET', '/metrics', { timeoutMs: 5_000 });
  const counts: BreakerEvents = { open: 0, halfOpen: 0, close: 0, failure: 0, reject: 0 };
  const text = typeof res.body === 'string' ? res.body : '';
  for (const m of text.matchAll(
    /^delivery_circuit_breaker_events_total\{name="driver-matching",event="(\w+)"\} (\d+)/gm,
  ))
    counts[m[1]!] = Number(m[2]);
  return counts;
}

async function pendingOfferFor(orderId: string): Promise<{ id: string; driver_id: string } | null> {
  const { rows } = await db!.pool.query<{ id: string; driver_id: string }>(
    `SELECT id, driver_id FROM driver_offers WHERE order_id = $1 AND status = 'pending'`,
    [orderId],
  );
  return rows[0] ?? null;
}

async function confirmedOrder(key: string): Promise<string> {
  const placed = await h.placeOrder(s!.url, customer, store, key);
  expect(placed.status).toBe(201);
  const id = placed.body.order.id as string;
  const confirmed = await h.call(s!.url, 'POST', `/api/v1/merchant/orders/${id}/confirm`, {
    token: store.owner.token,
  });
  expect(confirmed.status).toBe(200);
  return id;
}

const cancel = (id: string) =>
  h.call(s!.url, 'POST', `/api/v1/orders/${id}/cancel`, { token: customer.token, body: {} });

/** Sends one location update for the driver, a few metres from the last one. */
let nudge = 0;
async function oneLocationUpdate(): Promise<h.Answer> {
  nudge += 1;
  return h.call(s!.url, 'POST', '/api/v1/driver/location', {
    token: driver.token,
    body: { lat: DRIVER_AT.lat + nudge * 0.00001, lng: DRIVER_AT.lng },
  });
}

describe.skipIf(!h.realMode)('Redis loses its data or restarts under a running server', () => {
  it('FLUSHALL: sessions survive, orders keep working, one location update makes a driver matchable again', async () => {
    const rec = h.newRecord(
      'redis-flush',
      "FLUSHALL on the server's Redis (sessions cache, geo index, event log, leases all gone)",
    );
    try {
      // Before: the driver is matchable.
      const before = await confirmedOrder(`flush-before-${h.suffix()}`);
      const first = await h.waitFor('an offer before the flush', () => pendingOfferFor(before));
      expect(first.driver_id).toBe(driver.id);
      expect((await cancel(before)).status).toBe(200);

      redis!.flushAll();
      const flushedAt = Date.now();

      // Sessions are in PostgreSQL; Redis only cached them.
      const sessions = await Promise.all([me(customer.token), me(driver.token)]);
      const sessionStatuses = sessions.map((r) => r.status);
      // Orders: placed and confirmed as before.
      const order = await confirmedOrder(`flush-after-${h.suffix()}`);
      const orderWorkedInMs = Date.now() - flushedAt;
      // The index is empty: no offer, however long dispatch retries, until the driver reports.
      await h.sleep(1_500);
      const offerWithoutUpdate = await pendingOfferFor(order);
      const update = await oneLocationUpdate();
      const updatedAt = Date.now();
      const offer = await h.waitFor('an offer after one location update', () =>
        pendingOfferFor(order),
      );
      const matchableInMs = Date.now() - updatedAt;
      expect((await cancel(order)).status).toBe(200);

      rec.recoveredInMs = matchableInMs;
      rec.details = {
        summary: `sessions ${sessionStatuses.join('/')}, order placed ${orderWorkedInMs} ms after the flush, driver matchable ${matchableInMs} ms after one location update`,
        sessionStatusesAfterFlush: sessionStatuses,
        orderPlacedAfterFlushMs: orderWorkedInMs,
        offerBeforeLocationUpdate: offerWithoutUpdate !== null,
        locationUpdateStatus: update.status,
        matchableAfterUpdateMs: matchableInMs,
        recoveredMeans: 'time from the first location update after the flush to an offer',
      };
      expect(sessionStatuses).toEqual([200, 200]);
      expect(offerWithoutUpdate).toBeNull();
      expect(update.status).toBe(202);
      expect(offer.driver_id).toBe(driver.id);
      rec.passed = true;
    } finally {
      h.recordFault(rec);
    }
  }, 60_000);

  it('kill and restart: orders answer 201 or 503 meanwhile and work again by themselves; the breaker opens and closes', async () => {
    const rec = h.newRecord(
      'redis-restart',
      "SIGKILL of the server's Redis for ~4 s, then a fresh empty Redis on the same port",
    );
    const breakerRec = h.newRecord(
      'circuit-breaker',
      'driver matching (geo index in Redis) failing while Redis is down, with an order waiting for a driver',
    );
    const pool = db!.pool;
    const answers: Array<{ key: string; phase: string; status: number; ms: number }> = [];
    try {
      // An order waiting for a driver, so the matching breaker gets traffic during the outage.
      await pool.query(`UPDATE drivers SET status = 'offline' WHERE id = $1`, [driver.id]);
      const waiting = await confirmedOrder(`restart-waiting-${h.suffix()}`);

      await redis!.kill();
      const downAt = Date.now();
      let breakerOpenAt: number | null = null;
      const readyDuringOutage: { last: h.Answer | null } = { last: null };
      const sessionsDuringOutage: number[] = [];
      const breakerStates = new Set<string>();
      let outage = true;
      // Orders, sessions and readiness, each in its own loop, while Redis is down: at least 4 s,
      // and until the matching breaker has opened (at most 30 s).
      const loops = [
        (async () => {
          while (outage) {
            const key = `down-${answers.length}-${h.suffix()}`;
            const res = await h.placeOrder(s!.url, customer, store, key);
            answers.push({ key, phase: 'down', status: res.status, ms: Math.round(res.ms) });
            await h.sleep(50);
          }
        })(),
        (async () => {
          while (outage) {
            sessionsDuringOutage.push((await me(customer.token)).status);
            await h.sleep(200);
          }
        })(),
        (async () => {
          while (outage) {
            const r = await ready(); // up to 2 s: its Redis ping times out
            readyDuringOutage.last = r;
            const state = r.body?.circuitBreakers?.['driver-matching'];
            if (state === 'open' || state === 'half-open') breakerStates.add(state);
            await h.sleep(100);
          }
        })(),
        (async () => {
          // The breaker may open and half-open between two readiness answers: its event counter
          // in /metrics does not miss it.
          while (outage) {
            if (breakerOpenAt === null && (await breakerEvents()).open > 0)
              breakerOpenAt = Date.now();
            await h.sleep(50);
          }
        })(),
      ];
      await h
        .waitFor(
          'the breaker to open and 4 s of outage',
          async () => breakerOpenAt !== null && Date.now() - downAt >= 4_000,
          30_000,
          50,
        )
        .catch(() => undefined);
      outage = false;
      await Promise.all(loops);

      await redis!.start();
      const upAt = Date.now();
      await h.waitFor(
        '/health/ready 200 again',
        async () => (await ready()).status === 200,
        20_000,
        50,
      );
      const readyAgainMs = Date.now() - upAt;
      // Retry every refused order with its key until it is accepted (a client's retry).
      const refused = answers.filter((a) => a.status !== 201);
      for (const a of refused) {
        const res = await h.waitFor(
          `order ${a.key} accepted after the restart`,
          async () => {
            const r = await h.placeOrder(s!.url, customer, store, a.key);
            return r.status === 201 ? r : null;
          },
          20_000,
          100,
        );
        answers.push({ key: a.key, phase: 'retry', status: res.status, ms: Math.round(res.ms) });
      }
      const fresh = await h.placeOrder(s!.url, customer, store, `after-${h.suffix()}`);
      answers.push({
        key: 'after',
        phase: 'after',
        status: fresh.status,
        ms: Math.round(fresh.ms),
      });
      const ordersOkInMs = Date.now() - upAt;

      const breakerClosed = await h
        .waitFor(
          'the breaker to close',
          async () => (await ready()).body?.circuitBreakers?.['driver-matching'] === 'closed',
          20_000,
          50,
        )
        .then(() => Date.now())
        .catch(() => null);

      // The index is empty again; the driver comes back online and is matched at once.
      await pool.query(`UPDATE drivers SET status = 'online' WHERE id = $1`, [driver.id]);
      const update = await oneLocationUpdate();
      const offer = await h
        .waitFor('an offer for the waiting order', () => pendingOfferFor(waiting), 15_000)
        .catch(() => null);
      const sessionsAfter = (await me(customer.token)).status;
      if (offer) expect((await cancel(waiting)).status).toBe(200);

      // Every key is exactly one order, none half-written.
      const keys = new Set(answers.filter((a) => a.phase !== 'after').map((a) => a.key));
      const stored = await pool.query<{ key: string; order_id: string }>(
        `SELECT key, response_body->'order'->>'id' AS order_id FROM idempotency_keys
         WHERE user_id = $1 AND key = ANY($2::text[]) AND status = 'completed'`,
        [customer.id, [...keys]],
      );
      const ordersOfKeys = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])`,
        [stored.rows.map((r) => r.order_id)],
      );
      const downAnswers = answers.filter((a) => a.phase === 'down');
      const statuses = [...new Set(downAnswers.map((a) => a.status))].sort();
      const lat = h.latencyStats(downAnswers.map((a) => a.ms));

      rec.recoveredInMs = ordersOkInMs;
      rec.ordersLost = keys.size - stored.rows.length;
      rec.ordersDuplicated = Math.max(0, ordersOfKeys.rows[0]!.n - keys.size);
      rec.details = {
        summary: `during the outage ${downAnswers.length} orders answered ${statuses.join('/')} (max ${lat.maxMs} ms), /health/ready 200 ${readyAgainMs} ms after Redis was back`,
        outageMs: upAt - downAt,
        ordersDuringOutage: downAnswers.length,
        statusesDuringOutage: statuses,
        latencyDuringOutage: lat,
        refusedThenRetried: refused.length,
        readyDuringOutage: readyDuringOutage.last
          ? { status: readyDuringOutage.last.status, redis: readyDuringOutage.last.body?.redis }
          : null,
        readyAgainAfterRestartMs: readyAgainMs,
        sessionStatusesDuringOutage: [...new Set(sessionsDuringOutage)],
        sessionStatusAfterRestart: sessionsAfter,
        driverMatchableAfterOneUpdate: offer !== null,
        recoveredMeans: 'time from Redis back to every refused order accepted and a new one placed',
      };
      const events = await breakerEvents();
      breakerRec.recoveredInMs = breakerClosed === null ? null : breakerClosed - upAt;
      breakerRec.details = {
        summary: `opened ${breakerOpenAt === null ? 'never' : `${breakerOpenAt - downAt} ms`} into the outage, closed ${breakerClosed === null ? 'never' : `${breakerClosed - upAt} ms`} after Redis was back (reset timeout 1 s)`,
        openedAfterMs: breakerOpenAt === null ? null : breakerOpenAt - downAt,
        closedAfterRedisBackMs: breakerClosed === null ? null : breakerClosed - upAt,
        statesSeenOnHealthReady: [...breakerStates],
        events,
        recoveredMeans: "time from Redis back to /health/ready circuitBreakers 'closed'",
      };

      expect(readyDuringOutage.last?.status).toBe(503);
      expect(readyDuringOutage.last?.body?.redis).toBe('disconnected');
      expect(downAnswers.length).toBeGreaterThan(3);
      expect(downAnswers.every((a) => a.status === 201 || a.status === 503)).toBe(true);
      expect(sessionsDuringOutage.every((st) => st === 200 || st === 503)).toBe(true);
      expect(fresh.status).toBe(201);
      expect(rec.ordersLost).toBe(0);
      expect(rec.ordersDuplicated).toBe(0);
      expect(await h.halfWrittenOrders(pool, customer.id)).toEqual([]);
      expect(sessionsAfter).toBe(200);
      expect(update.status).toBe(202);
      expect(offer?.driver_id).toBe(driver.id);
      rec.passed = true;
      expect(breakerOpenAt).not.toBeNull();
      expect(events.open).toBeGreaterThanOrEqual(1);
      expect(events.close).toBeGreaterThanOrEqual(1);
      expect(breakerClosed).not.toBeNull();
      breakerRec.passed = true;
    } finally {
      h.recordFault(rec);
      h.recordFault(breakerRec);
    }
  }, 90_000);

  it('rebuilds the geo index from PostgreSQL after a flush, without any location update', async () => {
    const rec = h.newRecord(
      'geo-rebuild',
      'FLUSHALL, then the rebuild-geo command instead of waiting for location updates',
    );
    let kv: KeyValueAdapters | undefined;
    let pg: Db | undefined;
    try {
      // Positions reach PostgreSQL in sampled batches (flushed every 2 s).
      await h.waitFor(
        "the driver's position in PostgreSQL",
        async () => {
          const { rows } = await db!.pool.query<{ fresh: boolean }>(
            `SELECT location_updated_at > now() - interval '1 minute' AS fresh FROM drivers WHERE id = $1`,
            [driver.id],
          );
          return rows[0]?.fresh;
        },
        10_000,
        100,
      );
      redis!.flushAll();
      const flushedAt = Date.now();
      kv = createRedisAdapters({ url: redis!.url, prefix: PREFIX, onError: () => undefined });
      pg = createPostgresDb({ url: db!.url, poolSize: 2, onAfterCommitError: () => undefined });
      const report = await rebuildGeoIndex({
        db: pg,
        geo: kv.geo,
        clock: systemClock,
        maxAgeMs: 15 * 60_000,
      });
      const order = await confirmedOrder(`rebuild-${h.suffix()}`);
      const offer = await h.waitFor('an offer with no location update', () =>
        pendingOfferFor(order),
      );
      rec.recoveredInMs = Date.now() - flushedAt;
      rec.details = {
        summary: `rebuild-geo restored ${report.restored} driver(s) in ${report.durationMs} ms; matched without a location update`,
        report,
      };
      expect(report.restored).toBeGreaterThanOrEqual(1);
      expect(offer.driver_id).toBe(driver.id);
      expect((await cancel(order)).status).toBe(200);
      rec.passed = true;
    } finally {
      await kv?.close();
      await pg?.close();
      h.recordFault(rec);
    }
  }, 60_000);

  it('never restarted the server', async () => {
    expect(s!.child.exitCode).toBeNull();
    expect(s!.child.signalCode).toBeNull();
    expect((await ready()).status).toBe(200);
  });
});
