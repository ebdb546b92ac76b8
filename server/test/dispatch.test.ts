import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GeoIndex } from '../src/adapters/ports.ts';
import { DISPATCH_BREAKER } from '../src/dispatch/breaker.ts';
import { assignDriver } from '../src/dispatch/dispatch.repository.ts';
import { createDispatchService, LEASE_MS } from '../src/dispatch/dispatch.service.ts';
import { ManualClock } from '../src/platform/clock.ts';
import { createLogger } from '../src/platform/logger.ts';
import {
  createAdmin,
  createStore,
  HEIDELBERG,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';
import { connectWs, isEvent } from './ws-client.ts';

/**
 * Matching with a clock the test moves: the sweeper is off and each test calls `tick()`, so
 * every offer, expiry and hand-over happens exactly when the test says.
 */
let tp: TestPlatform;
let api: Api;
let clock: ManualClock;
let store: TestStore;
let customer: TestUser;

// Metres north of the store, roughly: 0.009° of latitude ≈ 1 km.
const north = (km: number) => ({ lat: HEIDELBERG.lat + km * 0.009, lng: HEIDELBERG.lng });

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' }, { clock });
  api = apiClient(tp.baseUrl);
  store = await createStore(tp, api);
  customer = await registerUser(api, 'customer');
});
afterAll(() => tp?.stop());

async function onlineDriver(km: number): Promise<TestUser> {
  const driver = await registerUser(api, 'driver');
  const res = await api('POST', '/api/v1/driver/go-online', {
    token: driver.token,
    body: north(km),
  });
  expect(res.status).toBe(200);
  return driver;
}

async function confirmedOrder(): Promise<string> {
  const order = await placeOrder(api, customer, store);
  const res = await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, {
    token: store.owner.token,
  });
  expect(res.status).toBe(200);
  return order.id;
}

const offerOf = async (driver: TestUser) =>
  (await api('GET', '/api/v1/driver/offers', { token: driver.token })).body.offer;

/** Moves time on and has every driver report where they are, as their apps would. */
async function advance(ms: number, drivers: Array<[TestUser, number]>) {
  clock.advance(ms);
  for (const [d, km] of drivers) {
    const res = await api('POST', '/api/v1/driver/location', { token: d.token, body: north(km) });
    expect(res.status).toBe(202);
  }
}

beforeEach(async () => {
  // Each test starts with no one online, so earlier tests' drivers cannot take its offers.
  await tp.infra.db.query(`UPDATE drivers SET status = 'offline'`);
  await tp.infra.db.query(`UPDATE driver_offers SET status = 'cancelled' WHERE status = 'pending'`);
  await tp.infra.db.query(
    `UPDATE orders SET dispatch_status = 'stopped' WHERE dispatch_status IN ('searching', 'offered')`,
  );
});

describe('sequential offers', () => {
  it('offers the best driver first, moves on after expiry and after a reject, never re-asks, then assigns', async () => {
    const near = await onlineDriver(0.3);
    const mid = await onlineDriver(1);
    const far = await onlineDriver(4);
    const fleet: Array<[TestUser, number]> = [
      [near, 0.3],
      [mid, 1],
      [far, 4],
    ];
    const orderId = await confirmedOrder();

    expect(await tp.services.dispatch.tick()).toBe(1);
    const first = await offerOf(near);
    expect(first.orderId).toBe(orderId);
    expect(Date.parse(first.expiresAt) - clock.now()).toBe(30_000);
    expect(first.earningsCents).toBeGreaterThan(0);
    expect(await offerOf(mid)).toBeNull();

    await advance(29_000, fleet);
    await tp.services.dispatch.tick();
    expect((await offerOf(near))?.id).toBe(first.id); // not yet expired

    await advance(2_000, fleet);
    await tp.services.dispatch.tick();
    expect(await offerOf(near)).toBeNull();
    const second = await offerOf(mid);
    expect(second.orderId).toBe(orderId);

    const rejected = await api('POST', `/api/v1/driver/offers/${second.id}/reject`, {
      token: mid.token,
    });
    expect(rejected.status).toBe(200);
    await tp.services.dispatch.tick();
    const third = await offerOf(far);
    expect(third.orderId).toBe(orderId);

    const late = await api('POST', `/api/v1/driver/offers/${first.id}/accept`, {
      token: near.token,
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('OFFER_EXPIRED');

    const accepted = await api('POST', `/api/v1/driver/offers/${third.id}/accept`, {
      token: far.token,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.order.driverId).toBe(far.id);
    expect(accepted.body.order.dispatchStatus).toBe('assigned');

    // A retried answer (its first reply lost) is refused with what the offer became, so the
    // driver's app can tell its own earlier answer from someone else's.
    const again = await api('POST', `/api/v1/driver/offers/${third.id}/accept`, {
      token: far.token,
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'OFFER_NOT_PENDING',
      details: { offerStatus: 'accepted' },
    });
    const rejectedAgain = await api('POST', `/api/v1/driver/offers/${second.id}/reject`, {
      token: mid.token,
    });
    expect(rejectedAgain.body.error.details).toEqual({ offerStatus: 'rejected' });

    const offers = await tp.infra.db.query<{ driver_id: string; status: string }>(
      'SELECT driver_id, status FROM driver_offers WHERE order_id = $1 ORDER BY offered_at',
      [orderId],
    );
    expect(offers.rows).toEqual([
      { driver_id: near.id, status: 'expired' },
      { driver_id: mid.id, status: 'rejected' },
      { driver_id: far.id, status: 'accepted' },
    ]);
  });

  it("announces an offer on the driver's channel as the app reads it, and its expiry", async () => {
    const driver = await onlineDriver(0.5);
    const channel = `driver:${driver.id}`;
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      phone.send({ type: 'subscribe', channel });
      await phone.next((m) => m.type === 'subscribed');
      const orderId = await confirmedOrder();

      expect(await tp.services.dispatch.tick()).toBe(1);
      const announced = await phone.next(isEvent(channel, 'offer.new'));
      expect(announced.data.orderId).toBe(orderId);
      expect(announced.data).toEqual(await offerOf(driver));

      await advance(31_000, [[driver, 0.5]]);
      expect(await tp.services.dispatch.tick()).toBe(1);
      const expired = await phone.next(isEvent(channel, 'offer.expired'));
      expect(expired.data).toEqual({ offerId: announced.data.id, orderId });
      const counters = await tp.infra.db.query(
        'SELECT offers_received, offers_accepted FROM drivers WHERE id = $1',
        [driver.id],
      );
      expect(counters.rows[0]).toEqual({ offers_received: 1, offers_accepted: 0 });
    } finally {
      await phone.close();
    }
  });

  it('never offers to a driver whose last position is stale, and retries later', async () => {
    const stale = await onlineDriver(0.5);
    const orderId = await confirmedOrder();
    clock.advance(31_000); // the driver reported 31 s ago: too old to be trusted
    await tp.services.dispatch.tick();
    expect(await offerOf(stale)).toBeNull();
    const row = await tp.infra.db.query<{ dispatch_status: string; dispatch_attempts: number }>(
      'SELECT dispatch_status, dispatch_attempts FROM orders WHERE id = $1',
      [orderId],
    );
    expect(row.rows[0]).toEqual({ dispatch_status: 'searching', dispatch_attempts: 1 });
    await advance(5_000, [[stale, 0.5]]);
    await tp.services.dispatch.tick();
    expect((await offerOf(stale))?.orderId).toBe(orderId);
  });

  it('looks past the nearest hundred in the geo index when none of them may take the order', async () => {
    // 150 positions nearer the store than the free driver, none of them an online driver who
    // may take the order (as at a busy hour: all carrying orders or answering other offers).
    const crowd = Array.from({ length: 150 }, () => randomUUID());
    for (const [i, id] of crowd.entries()) {
      await tp.infra.kv.geo.set(id, { ...north(0.05 + i * 0.001), at: clock.now() }, 60_000);
    }
    try {
      const free = await onlineDriver(1.2);
      const orderId = await confirmedOrder();
      await tp.services.dispatch.tick();
      expect((await offerOf(free))?.orderId).toBe(orderId);
    } finally {
      for (const id of crowd) await tp.infra.kv.geo.remove(id);
    }
  });

  it('flags an order no driver took within the configured time and tells the customer', async () => {
    const orderId = await confirmedOrder();
    for (let i = 0; i < 12; i++) {
      clock.advance(30_000);
      await tp.services.dispatch.tick();
    }
    const order = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(order.body.order.needsAttention).toBe(true);
    const notes = await tp.infra.db.query(
      `SELECT 1 FROM notifications WHERE order_id = $1 AND type = 'order.delayed'`,
      [orderId],
    );
    expect(notes.rowCount).toBe(1);
    const cancelled = await tp.services.orders.cancelByCustomer(customer.id, orderId);
    expect(cancelled.needsAttention).toBe(false); // a finished order needs no one's attention
  });

  it('stops dispatch and withdraws the offer when the customer cancels', async () => {
    const driver = await onlineDriver(0.2);
    const orderId = await confirmedOrder();
    await tp.services.dispatch.tick();
    const offer = await offerOf(driver);
    expect(offer.orderId).toBe(orderId);
    await api('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token });
    expect(await offerOf(driver)).toBeNull();
    const res = await api('POST', `/api/v1/driver/offers/${offer.id}/accept`, {
      token: driver.token,
    });
    expect(res.status).toBe(409);
    const order = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(order.body.order).toMatchObject({
      status: 'cancelled',
      driverId: null,
      dispatchStatus: 'stopped',
    });
  });
});

describe('the database decides races', () => {
  it('works several due orders side by side, one pending offer per order and per driver', async () => {
    const drivers = await Promise.all([0.2, 0.4, 0.6, 0.8, 1.0, 1.2].map(onlineDriver));
    const orders: string[] = [];
    for (let i = 0; i < 6; i++) orders.push(await confirmedOrder());

    // The real geo index, with a count of searches in flight. Each search waits (at most
    // 300 ms) for a second one, so claimers that can overlap do, whatever the scheduling.
    const real = tp.infra.kv.geo;
    let inFlight = 0;
    let maxInFlight = 0;
    const counting: GeoIndex = {
      ...real,
      get: (id) => real.get(id),
      search: async (...args) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        for (let waited = 0; inFlight < 2 && waited < 300; waited += 10)
          await new Promise((r) => setTimeout(r, 10));
        try {
          return await real.search(...args);
        } finally {
          inFlight -= 1;
        }
      },
    };
    // The sweep's transactions and its statements outside them, counted.
    let transactions = 0;
    let statements = 0;
    const db = tp.infra.db;
    const sweepDb = new Proxy(db, {
      get: (target, key, receiver) =>
        key === 'transaction'
          ? (fn: Parameters<typeof db.transaction>[0]) => {
              transactions += 1;
              return target.transaction(fn);
            }
          : key === 'query'
            ? (...args: Parameters<typeof db.query>) => {
                statements += 1;
                return target.query(...args);
              }
            : Reflect.get(target, key, receiver),
    });
    const dispatch = createDispatchService({
      db,
      sweepDb,
      geo: counting,
      publisher: tp.services.publisher,
      clock: tp.infra.clock,
      settings: { ...tp.config.dispatch, enabled: false, concurrency: 4 },
      log: createLogger({ logLevel: 'silent', instanceId: 'concurrency-test' }),
      notify: async (tx, n) => void (await tp.services.notifications.notify(tx, n)),
    });

    expect(await dispatch.tick()).toBe(6);
    // Every order now waits on its offer: the next sweep finds nothing due, and one claimer
    // (not all 4) looks, with one statement and no transaction. (The clock has not moved, so
    // the check for abandoned orders, once per tick interval, does not run again.)
    transactions = 0;
    statements = 0;
    expect(await dispatch.tick()).toBe(0);
    expect([transactions, statements]).toEqual([0, 1]);
    const { rows } = await tp.infra.db.query<{ order_id: string; driver_id: string }>(
      `SELECT order_id, driver_id FROM driver_offers WHERE status = 'pending' AND order_id = ANY($1::uuid[])`,
      [orders],
    );
    expect(rows.map((r) => r.order_id).sort()).toEqual([...orders].sort());
    expect(new Set(rows.map((r) => r.driver_id)).size).toBe(6);
    expect(new Set(rows.map((r) => r.driver_id))).toEqual(new Set(drivers.map((d) => d.id)));
    // Claimers that ranked the same driver first raced for them; each loser's notification went
    // out with its offer but was kept only with it: every driver is told of exactly their offer.
    const told = await tp.infra.db.query<{ order_id: string; driver_id: string }>(
      `SELECT order_id, user_id AS driver_id FROM notifications
       WHERE type = 'offer.new' AND order_id = ANY($1::uuid[])`,
      [orders],
    );
    const pairs = (list: Array<{ order_id: string; driver_id: string }>) =>
      list.map((r) => `${r.order_id} ${r.driver_id}`).sort();
    expect(pairs(told.rows)).toEqual(pairs(rows));
    // Searches run under a lease with no transaction open, so claimers overlap there even on
    // PGlite, which runs one transaction at a time.
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });

  /**
   * A sweeper whose geo searches wait until the test lets them go, and then no longer wait.
   * With `kicks` it also sweeps when kicked, as a server's does.
   */
  function heldSweeper({ kicks = false } = {}) {
    const real = tp.infra.kv.geo;
    let held = true;
    let searches = 0;
    const waiting: Array<() => void> = [];
    let started!: () => void;
    const firstSearch = new Promise<void>((resolve) => (started = resolve));
    const geo: GeoIndex = {
      ...real,
      get: (id) => real.get(id),
      search: async (...args) => {
        searches += 1;
        started();
        if (held) await new Promise<void>((resolve) => waiting.push(resolve));
        return real.search(...args);
      },
    };
    const dispatch = createDispatchService({
      db: tp.infra.db,
      geo,
      publisher: tp.services.publisher,
      clock: tp.infra.clock,
      settings: { ...tp.config.dispatch, enabled: kicks },
      log: createLogger({ logLevel: 'silent', instanceId: 'lease-test' }),
      // Its search waits for the test, however slow the machine: no time-out.
      breaker: { ...DISPATCH_BREAKER, timeoutMs: 120_000 },
    });
    const release = () => {
      held = false;
      waiting.splice(0).forEach((go) => go());
    };
    return { dispatch, firstSearch, release, searches: () => searches };
  }

  /** A driver nearby and a confirmed order, whose sweep is held in its search. */
  async function orderInHeldSearch(opts: { kicks?: boolean } = {}) {
    const driver = await onlineDriver(0.2);
    const orderId = await confirmedOrder();
    const { dispatch, firstSearch, release, searches } = heldSweeper(opts);
    const sweep = dispatch.tick();
    await firstSearch;
    return { driver, orderId, sweep, release, dispatch, searches };
  }

  it("holds no lock on the order while it searches: the store's status change goes through", async () => {
    const { driver, orderId, sweep, release } = await orderInHeldSearch();
    // Before, the step held the order's row lock (and on PGlite the one transaction) through
    // the search, and this request waited for the sweep to end.
    const preparing = api('POST', `/api/v1/merchant/orders/${orderId}/preparing`, {
      token: store.owner.token,
    });
    const first = await Promise.race([
      preparing.then((res) => res.status),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3_000)),
    ]);
    release();
    expect(first).toBe(200);
    expect(await sweep).toBe(1);
    expect((await offerOf(driver)).orderId).toBe(orderId);
    const order = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(order.body.order).toMatchObject({ status: 'preparing', dispatchStatus: 'offered' });
  });

  it('makes no offer for an order cancelled while its candidates were searched', async () => {
    const { driver, orderId, sweep, release } = await orderInHeldSearch();
    const cancel = await api('POST', `/api/v1/orders/${orderId}/cancel`, {
      token: customer.token,
    });
    expect(cancel.status).toBe(200);
    release();
    expect(await sweep).toBe(0); // the lease was void: nothing stepped
    expect(await offerOf(driver)).toBeNull();
    const offers = await tp.infra.db.query('SELECT 1 FROM driver_offers WHERE order_id = $1', [
      orderId,
    ]);
    expect(offers.rowCount).toBe(0);
    const order = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(order.body.order).toMatchObject({ status: 'cancelled', dispatchStatus: 'stopped' });
  });

  it('takes over an order whose claimer stalled past its lease; the stalled one then does nothing', async () => {
    // This claimer leases the order and stalls in its search (a process paused or dying).
    const { driver, orderId, sweep: stalled, release } = await orderInHeldSearch();
    expect(await tp.services.dispatch.tick()).toBe(0); // leased: no one else takes it
    await advance(LEASE_MS - 1, [[driver, 0.2]]);
    expect(await tp.services.dispatch.tick()).toBe(0);
    await advance(1, [[driver, 0.2]]);
    expect(await tp.services.dispatch.tick()).toBe(1);
    expect((await offerOf(driver)).orderId).toBe(orderId);
    // The stalled claimer's lease is void now: it finds the order changed and leaves it.
    release();
    expect(await stalled).toBe(0);
    const offers = await tp.infra.db.query<{ status: string }>(
      'SELECT status FROM driver_offers WHERE order_id = $1',
      [orderId],
    );
    expect(offers.rows).toEqual([{ status: 'pending' }]);
  });

  it('stops only once the sweep in progress has made its offer, and sweeps no more', async () => {
    const held = await orderInHeldSearch({ kicks: true });
    const { driver, orderId, sweep, release, dispatch } = held;
    let stopped = false;
    const stopping = dispatch.stop().then(() => (stopped = true));
    dispatch.kick(); // a status change seen during the sweep: it would sweep again after it
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false); // shutdown closes the database pool after this
    release();
    await stopping;
    expect(await sweep).toBe(1);
    expect((await offerOf(driver)).orderId).toBe(orderId);
    const searched = held.searches();
    const later = await confirmedOrder(); // due now, and kicked
    dispatch.kick();
    expect(await dispatch.tick()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.searches()).toBe(searched);
    const order = await api('GET', `/api/v1/orders/${later}`, { token: customer.token });
    expect(order.body.order).toMatchObject({ dispatchStatus: 'searching' });
  });

  it('assigns an order to exactly one of 50 drivers claiming it at once', async () => {
    const drivers = await Promise.all(
      Array.from({ length: 50 }, () => registerUser(api, 'driver')),
    );
    const orderId = await confirmedOrder();
    const now = new Date(clock.now());
    const results = await Promise.all(
      drivers.map((d) => tp.infra.db.transaction((tx) => assignDriver(tx, orderId, d.id, now))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = drivers[results.findIndex(Boolean)]!;
    const row = await tp.infra.db.query<{ driver_id: string }>(
      'SELECT driver_id FROM orders WHERE id = $1',
      [orderId],
    );
    expect(row.rows[0]!.driver_id).toBe(winner.id);
    const load = await tp.infra.db.query<{ n: number }>(
      'SELECT sum(active_orders)::int AS n FROM drivers WHERE id = ANY($1::uuid[])',
      [drivers.map((d) => d.id)],
    );
    expect(load.rows[0]!.n).toBe(1);
  });

  it('lets a customer cancel racing a driver accept end in one consistent state, every time', async () => {
    for (let round = 0; round < 8; round++) {
      await tp.infra.db.query(`UPDATE drivers SET status = 'offline'`);
      const driver = await onlineDriver(0.2);
      const orderId = await confirmedOrder();
      await tp.services.dispatch.tick();
      const offer = await offerOf(driver);
      const [accept, cancel] = await Promise.all([
        api('POST', `/api/v1/driver/offers/${offer.id}/accept`, { token: driver.token }),
        api('POST', `/api/v1/orders/${orderId}/cancel`, { token: customer.token }),
      ]);
      expect(cancel.status).toBe(200); // cancelling before pickup always succeeds
      expect([200, 409]).toContain(accept.status); // never a deadlock surfacing as 500
      const row = await tp.infra.db.query<{ status: string }>(
        'SELECT status FROM orders WHERE id = $1',
        [orderId],
      );
      expect(row.rows[0]!.status).toBe('cancelled');
      const load = await tp.infra.db.query<{ active_orders: number }>(
        'SELECT active_orders FROM drivers WHERE id = $1',
        [driver.id],
      );
      expect(load.rows[0]!.active_orders).toBe(0);
    }
  });
});

describe('the delivery', () => {
  it('runs from offer to delivered with the driver in charge, and keeps counters right', async () => {
    const driver = await onlineDriver(0.2);
    const orderId = await confirmedOrder();
    await tp.services.dispatch.tick();
    const offer = await offerOf(driver);
    expect(
      (await api('POST', `/api/v1/driver/offers/${offer.id}/accept`, { token: driver.token }))
        .status,
    ).toBe(200);
    const early = await api('POST', `/api/v1/driver/orders/${orderId}/picked-up`, {
      token: driver.token,
    });
    expect(early.status).toBe(409); // the food is not ready yet
    for (const step of ['preparing', 'ready']) {
      await api('POST', `/api/v1/merchant/orders/${orderId}/${step}`, { token: store.owner.token });
    }
    const stranger = await onlineDriver(3);
    expect(
      (await api('POST', `/api/v1/driver/orders/${orderId}/picked-up`, { token: stranger.token }))
        .status,
    ).toBe(404);
    const picked = await api('POST', `/api/v1/driver/orders/${orderId}/picked-up`, {
      token: driver.token,
    });
    expect(picked.body.order.status).toBe('picked_up');
    expect(picked.body.order.eta.minutes).toBeGreaterThan(0);
    const tracked = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(tracked.body.order.eta.minutes).toBeGreaterThan(0);
    const delivered = await api('POST', `/api/v1/driver/orders/${orderId}/delivered`, {
      token: driver.token,
    });
    expect(delivered.body.order.status).toBe('delivered');
    const counters = await tp.infra.db.query(
      'SELECT active_orders, total_deliveries, offers_received, offers_accepted FROM drivers WHERE id = $1',
      [driver.id],
    );
    expect(counters.rows[0]).toEqual({
      active_orders: 0,
      total_deliveries: 1,
      offers_received: 1,
      offers_accepted: 1,
    });
    const earnings = await api('GET', '/api/v1/driver/earnings', { token: driver.token });
    expect(earnings.body.orders[0].orderId).toBe(orderId);
    expect(earnings.body.totalCents).toBe(offer.earningsCents);
  });
});

describe('operators and absent drivers', () => {
  async function assignedTo(driver: TestUser): Promise<string> {
    const orderId = await confirmedOrder();
    await tp.services.dispatch.tick();
    const offer = await offerOf(driver);
    expect(offer.orderId).toBe(orderId);
    expect(
      (await api('POST', `/api/v1/driver/offers/${offer.id}/accept`, { token: driver.token }))
        .status,
    ).toBe(200);
    return orderId;
  }

  it('keeps an order assigned when its driver goes offline, offers nothing new, and flags it after 10 minutes', async () => {
    const driver = await onlineDriver(0.2);
    const orderId = await assignedTo(driver);
    expect((await api('POST', '/api/v1/driver/go-offline', { token: driver.token })).status).toBe(
      200,
    );
    const other = await confirmedOrder();
    await tp.services.dispatch.tick();
    expect(await offerOf(driver)).toBeNull();
    const kept = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(kept.body.order).toMatchObject({ driverId: driver.id, needsAttention: false });
    // went_offline_at is the database's time; put it 11 minutes behind the test clock.
    await tp.infra.db.query('UPDATE drivers SET went_offline_at = $2 WHERE id = $1', [
      driver.id,
      new Date(clock.now() - 11 * 60_000),
    ]);
    await tp.services.dispatch.tick();
    // Abandoned orders are looked for at most once per sweep interval (DISPATCH_TICK_MS).
    const early = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(early.body.order.needsAttention).toBe(false);
    clock.advance(1_000);
    await tp.services.dispatch.tick();
    const flagged = await api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
    expect(flagged.body.order.needsAttention).toBe(true);
    await tp.services.orders.cancelByCustomer(customer.id, other);
  });

  it('lets an admin reassign an order to another driver or back to the search', async () => {
    const admin = await createAdmin(tp, api);
    const first = await onlineDriver(0.2);
    const orderId = await assignedTo(first);
    const second = await onlineDriver(0.4);
    const direct = await api('POST', `/api/v1/admin/orders/${orderId}/reassign`, {
      token: admin.token,
      body: { driverId: second.id, reason: 'first driver unreachable' },
    });
    expect(direct.status).toBe(200);
    expect(direct.body.order.driverId).toBe(second.id);
    const loads = await tp.infra.db.query<{ id: string; active_orders: number }>(
      'SELECT id, active_orders FROM drivers WHERE id = ANY($1::uuid[])',
      [[first.id, second.id]],
    );
    expect(Object.fromEntries(loads.rows.map((r) => [r.id, r.active_orders]))).toEqual({
      [first.id]: 0,
      [second.id]: 1,
    });

    const search = await api('POST', `/api/v1/admin/orders/${orderId}/reassign`, {
      token: admin.token,
      body: {},
    });
    expect(search.body.order).toMatchObject({ driverId: null, dispatchStatus: 'searching' });
    await tp.services.dispatch.tick();
    // The new search skips everyone already asked for this order (the first driver).
    expect(await offerOf(first)).toBeNull();
    expect((await offerOf(second))?.orderId).toBe(orderId);

    const notYours = await api('POST', `/api/v1/admin/orders/${crypto.randomUUID()}/reassign`, {
      token: admin.token,
    });
    expect(notYours.status).toBe(404);
  });
});
