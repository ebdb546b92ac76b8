import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, HEIDELBERG, placeOrder, registerUser, type TestUser } from './factories.ts';
import { apiClient } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';
import { connectWs, isEvent } from './ws-client.ts';

/**
 * Two server instances on one PostgreSQL and one Redis, both sweeping for dispatch work.
 * Embedded mode keeps its data inside one process, so there is nothing to share there.
 */
const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const FAST = { DISPATCH_TICK_MS: '100', DISPATCH_OFFER_TIMEOUT_MS: '1500' };

/** Holds the test database for the others and does no dispatch work itself. */
let owner: TestPlatform;
let a: TestPlatform | undefined;
let b: TestPlatform;

beforeAll(async () => {
  if (!realMode) return;
  owner = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
  a = await startTestPlatform(FAST, { shareWith: owner });
  b = await startTestPlatform(FAST, { shareWith: owner });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await owner?.stop();
});

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const offersOf = async (tp: TestPlatform, orderId: string) =>
  (
    await tp.infra.db.query<{ driver_id: string; status: string }>(
      'SELECT driver_id, status FROM driver_offers WHERE order_id = $1 ORDER BY offered_at',
      [orderId],
    )
  ).rows;

describe.skipIf(!realMode)('several instances (real PostgreSQL + Redis only)', () => {
  it("streams a driver's location posted to instance A to the customer's socket on instance B", async () => {
    const apiA = apiClient(a!.baseUrl);
    const apiB = apiClient(b.baseUrl);
    const store = await createStore(a!, apiA);
    const customer = await registerUser(apiA, 'customer');
    const driver = await registerUser(apiA, 'driver');
    await apiA('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
    const order = await placeOrder(apiA, customer, store);
    await apiA('POST', `/api/v1/merchant/orders/${order.id}/confirm`, { token: store.owner.token });
    const offer = await waitFor(
      'the offer',
      async () => (await apiB('GET', '/api/v1/driver/offers', { token: driver.token })).body.offer,
    );
    expect(
      (await apiB('POST', `/api/v1/driver/offers/${offer.id}/accept`, { token: driver.token }))
        .status,
    ).toBe(200);

    const watcher = await connectWs(b.baseUrl, { token: customer.token });
    try {
      watcher.send({ type: 'subscribe', channel: `order:${order.id}` });
      await watcher.next((m) => m.type === 'subscribed');
      const posted = await apiA('POST', '/api/v1/driver/location', {
        token: driver.token,
        body: { lat: HEIDELBERG.lat + 0.002, lng: HEIDELBERG.lng },
      });
      expect(posted.status).toBe(202);
      const seen = await watcher.next(isEvent(`order:${order.id}`, 'order.driver_location'));
      expect(seen.data).toMatchObject({ driverId: driver.id, lat: HEIDELBERG.lat + 0.002 });
    } finally {
      await watcher.close();
    }
  });

  it('streams locations sent to instance B as soon as instance A assigns the driver', async () => {
    const apiA = apiClient(a!.baseUrl);
    const apiB = apiClient(b.baseUrl);
    const store = await createStore(a!, apiA);
    // Away from the other tests' drivers, so the offer goes to this one.
    const here = { lat: HEIDELBERG.lat - 0.3, lng: HEIDELBERG.lng };
    await a!.infra.db.query('UPDATE merchants SET lat = $2, lng = $3 WHERE id = $1', [
      store.id,
      here.lat,
      here.lng,
    ]);
    const customer = await registerUser(apiA, 'customer');
    const driver = await registerUser(apiA, 'driver');
    await apiB('POST', '/api/v1/driver/go-online', { token: driver.token, body: here });
    const phone = await connectWs(b.baseUrl, { token: driver.token });
    const watcher = await connectWs(a!.baseUrl, { token: customer.token });
    let seq = 0;
    const report = async () => {
      seq++;
      phone.send({ type: 'location', lat: here.lat + seq * 0.0001, lng: here.lng, seq });
      expect(await phone.next((m) => m.seq === seq)).toEqual({ type: 'ack', seq });
    };
    try {
      // B learns (and keeps in process) that the driver carries nothing.
      await report();
      const order = await placeOrder(apiA, customer, store, {
        deliveryLat: here.lat + 0.01,
        deliveryLng: here.lng,
      });
      watcher.send({ type: 'subscribe', channel: `order:${order.id}` });
      await watcher.next((m) => m.type === 'subscribed');
      await apiA('POST', `/api/v1/merchant/orders/${order.id}/confirm`, {
        token: store.owner.token,
      });
      const offer = await waitFor(
        'the offer',
        async () =>
          (await apiA('GET', '/api/v1/driver/offers', { token: driver.token })).body.offer,
      );
      await report(); // still nothing to stream: the offer is not accepted yet
      const accepted = await apiA('POST', `/api/v1/driver/offers/${offer.id}/accept`, {
        token: driver.token,
      });
      expect(accepted.status).toBe(200);
      const assignedAt = Date.now();

      // A's invalidation reaches B over the bus: B's next reports stream, long before the TTL.
      const seen = await waitFor('order.driver_location from B', async () => {
        await report();
        return watcher.received.find(isEvent(`order:${order.id}`, 'order.driver_location'));
      });
      expect(Date.now() - assignedAt).toBeLessThan(3_000);
      expect(seen.data).toMatchObject({ driverId: driver.id, orderId: order.id });
    } finally {
      await watcher.close();
      await phone.close();
    }
  });

  it('finishes dispatch on the surviving instance when the other stops mid-offer', async () => {
    const first = a!;
    const apiA = apiClient(first.baseUrl);
    const store = await createStore(first, apiA);
    const customer = await registerUser(apiA, 'customer');
    const drivers: TestUser[] = [];
    for (const km of [0.2, 0.6]) {
      const d = await registerUser(apiA, 'driver');
      await apiA('POST', '/api/v1/driver/go-online', {
        token: d.token,
        body: { lat: HEIDELBERG.lat + km * 0.009, lng: HEIDELBERG.lng },
      });
      drivers.push(d);
    }
    // Both instances sweep; whichever made the first offer, A stops while it is pending.
    const order = await placeOrder(apiA, customer, store);
    await apiA('POST', `/api/v1/merchant/orders/${order.id}/confirm`, { token: store.owner.token });
    await waitFor('the first offer', async () => (await offersOf(first, order.id)).length === 1);
    await first.stop();
    a = undefined;

    const offers = await waitFor('the second offer, made by B', async () => {
      const rows = await offersOf(b, order.id);
      return rows.length === 2 ? rows : null;
    });
    expect(offers).toEqual([
      { driver_id: drivers[0]!.id, status: 'expired' },
      { driver_id: drivers[1]!.id, status: 'pending' },
    ]);
  });

  it('never lets two sweeping instances offer one order twice or one driver two orders', async () => {
    const c = await startTestPlatform(FAST, { shareWith: owner });
    try {
      const apiB = apiClient(b.baseUrl);
      const store = await createStore(b, apiB);
      // Far from every other test's drivers, so only this test's six can be asked.
      const far = { lat: HEIDELBERG.lat + 0.3, lng: HEIDELBERG.lng };
      await b.infra.db.query('UPDATE merchants SET lat = $2, lng = $3 WHERE id = $1', [
        store.id,
        far.lat,
        far.lng,
      ]);
      const customer = await registerUser(apiB, 'customer');
      for (let i = 0; i < 6; i++) {
        const d = await registerUser(apiB, 'driver');
        await apiB('POST', '/api/v1/driver/go-online', {
          token: d.token,
          body: { lat: far.lat + i * 0.001, lng: far.lng },
        });
      }
      const orders: string[] = [];
      for (let i = 0; i < 8; i++) {
        const o = await placeOrder(apiB, customer, store, {
          deliveryLat: far.lat + 0.01,
          deliveryLng: far.lng,
        });
        await apiB('POST', `/api/v1/merchant/orders/${o.id}/confirm`, { token: store.owner.token });
        orders.push(o.id);
      }
      // Three instances sweep while offers expire every 1.5 s; sample the invariants meanwhile.
      const until = Date.now() + 4_000;
      while (Date.now() < until) {
        const pending = await b.infra.db.query<{ order_id: string; driver_id: string }>(
          `SELECT order_id, driver_id FROM driver_offers WHERE status = 'pending' AND order_id = ANY($1::uuid[])`,
          [orders],
        );
        expect(new Set(pending.rows.map((r) => r.order_id)).size).toBe(pending.rows.length);
        expect(new Set(pending.rows.map((r) => r.driver_id)).size).toBe(pending.rows.length);
        await new Promise((r) => setTimeout(r, 100));
      }
      const all = await b.infra.db.query<{ order_id: string; driver_id: string }>(
        'SELECT order_id, driver_id FROM driver_offers WHERE order_id = ANY($1::uuid[])',
        [orders],
      );
      expect(all.rows.length).toBeGreaterThan(8); // offers really rotated
      const pairs = all.rows.map((r) => `${r.order_id}/${r.driver_id}`);
      expect(new Set(pairs).size).toBe(pairs.length); // no driver asked twice for one order
    } finally {
      await c.stop();
    }
  });
});

if (!realMode) {
  console.info(
    'several-instances suite skipped: embedded data lives in one process (set DATABASE_URL and REDIS_URL)',
  );
}
