import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { legMinutes } from '../src/tracking/eta.ts';
import { TRACKING_INVALIDATE_CHANNEL } from '../src/tracking/tracking.service.ts';
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
import { connectWs, isEvent, type WsClient } from './ws-client.ts';

let tp: TestPlatform;
let api: Api;
let store: TestStore;
let customer: TestUser;

beforeAll(async () => {
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
  api = apiClient(tp.baseUrl);
  store = await createStore(tp, api);
  customer = await registerUser(api, 'customer');
});
afterAll(() => tp?.stop());

/**
 * An order confirmed and accepted by a fresh driver standing next to the store; `beforeOrder`
 * runs once the driver is online, before the order exists.
 */
async function assignedOrder(
  beforeOrder?: (driver: TestUser) => Promise<void>,
): Promise<{ orderId: string; driver: TestUser }> {
  const driver = await registerUser(api, 'driver');
  await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
  await beforeOrder?.(driver);
  const order = await placeOrder(api, customer, store);
  await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, { token: store.owner.token });
  await tp.services.dispatch.tick();
  const offer = (await api('GET', '/api/v1/driver/offers', { token: driver.token })).body.offer;
  expect(
    (await api('POST', `/api/v1/driver/offers/${offer.id}/accept`, { token: driver.token })).status,
  ).toBe(200);
  return { orderId: order.id, driver };
}

describe('live tracking over the WebSocket', () => {
  it('streams fleet positions to admins and keeps only the newest batch in the replay log', async () => {
    const admin = await createAdmin(tp, api);
    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
    const watcher = await connectWs(tp.baseUrl, { token: admin.token });
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      watcher.send({ type: 'subscribe', channel: 'fleet' });
      await watcher.next((m) => m.type === 'subscribed');
      const received: string[] = [];
      for (const step of [1, 2]) {
        const lat = HEIDELBERG.lat + 0.001 * step;
        phone.send({ type: 'location', lat, lng: HEIDELBERG.lng, seq: step });
        expect(await phone.next((m) => m.type === 'ack' || m.type === 'error')).toEqual({
          type: 'ack',
          seq: step,
        });
        const batch = await watcher.next(
          (m) =>
            isEvent('fleet', 'fleet.positions')(m) &&
            m.data.drivers.some((d: any) => d.driverId === driver.id && d.lat === lat),
        );
        received.push(batch.id);
      }
      // Each batch replaces the last in the log: a resubscriber gets the current positions,
      // not an hour of superseded ones.
      const logged = await tp.infra.kv.events.readAfter('fleet', null, 1_000);
      const positions = logged.filter(
        (e) => (JSON.parse(e.payload) as { type: string }).type === 'fleet.positions',
      );
      expect(positions.map((e) => e.id)).toEqual([received[1]]);
    } finally {
      await watcher.close();
      await phone.close();
    }
  }, 15_000);

  it('sends a fleet batch built over several event-loop turns whole, each driver once', async () => {
    const admin = await createAdmin(tp, api);
    const watcher = await connectWs(tp.baseUrl, { token: admin.token });
    try {
      watcher.send({ type: 'subscribe', channel: 'fleet' });
      await watcher.next((m) => m.type === 'subscribed');
      // More than two slices of the batch; all in one turn, so all in one batch.
      const drivers = Array.from({ length: 2_500 }, (_, i) => ({
        driverId: randomUUID(),
        lat: HEIDELBERG.lat + i * 1e-6,
        lng: HEIDELBERG.lng,
        heading: i % 360,
        recordedAt: Date.UTC(2026, 0, 1, 12, 0, 0, i),
      }));
      for (const d of drivers) tp.services.tracking.onLocation(d);
      const batch = await watcher.next(
        (m) =>
          isEvent('fleet', 'fleet.positions')(m) &&
          m.data.drivers.some((d: any) => d.driverId === drivers[0]!.driverId),
        5_000,
      );
      const sent = new Map(drivers.map((d) => [d.driverId, d]));
      const ours = (batch.data.drivers as any[]).filter((d) => sent.has(d.driverId));
      expect(ours).toHaveLength(drivers.length);
      expect(new Set(ours.map((d) => d.driverId)).size).toBe(drivers.length);
      const last = drivers[drivers.length - 1]!;
      expect(ours.find((d) => d.driverId === last.driverId)).toEqual({
        driverId: last.driverId,
        lat: last.lat,
        lng: last.lng,
        heading: last.heading,
        recordedAt: new Date(last.recordedAt).toISOString(),
      });
    } finally {
      await watcher.close();
    }
  }, 15_000);

  it("acks a driver's location by seq and streams it with an ETA to the customer's order channel", async () => {
    const { orderId, driver } = await assignedOrder();
    const watcher = await connectWs(tp.baseUrl, { token: customer.token });
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      watcher.send({ type: 'subscribe', channel: `order:${orderId}` });
      await watcher.next((m) => m.type === 'subscribed');

      phone.send({ type: 'location', lat: HEIDELBERG.lat + 0.001, lng: HEIDELBERG.lng, seq: 7 });
      expect(await phone.next((m) => m.type === 'ack' || m.type === 'error')).toEqual({
        type: 'ack',
        seq: 7,
      });

      const moved = await watcher.next(isEvent(`order:${orderId}`, 'order.driver_location'));
      expect(moved.data).toMatchObject({
        orderId,
        driverId: driver.id,
        lat: HEIDELBERG.lat + 0.001,
      });
      const eta = await watcher.next(isEvent(`order:${orderId}`, 'order.eta'));
      expect(eta.data.minutes).toBeGreaterThan(0);
      expect(Date.parse(eta.data.at)).toBeGreaterThan(Date.now());
    } finally {
      await watcher.close();
      await phone.close();
    }
  });

  it('sends at most one location event per order per second however often the driver reports', async () => {
    const { orderId, driver } = await assignedOrder();
    const watcher = await connectWs(tp.baseUrl, { token: customer.token });
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      watcher.send({ type: 'subscribe', channel: `order:${orderId}` });
      await watcher.next((m) => m.type === 'subscribed');
      for (let seq = 1; seq <= 5; seq++) {
        phone.send({
          type: 'location',
          lat: HEIDELBERG.lat + seq * 0.0001,
          lng: HEIDELBERG.lng,
          seq,
        });
        await phone.next((m) => m.type === 'ack' && m.seq === seq);
      }
      await watcher.next(isEvent(`order:${orderId}`, 'order.driver_location'));
      await watcher.expectNothing(isEvent(`order:${orderId}`, 'order.driver_location'), 500);
    } finally {
      await watcher.close();
      await phone.close();
    }
  });

  it('answers a bad location with an error carrying its seq and changes nothing', async () => {
    const { driver } = await assignedOrder();
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      const before = await tp.infra.kv.geo.get(driver.id);
      phone.send({
        type: 'location',
        lat: 49.41,
        lng: 8.69,
        recordedAt: new Date(Date.now() + 3_600_000).toISOString(),
        seq: 3,
      });
      const reply = await phone.next((m) => m.seq === 3);
      expect(reply).toMatchObject({ type: 'error', code: 'LOCATION_REJECTED', seq: 3 });
      expect(await tp.infra.kv.geo.get(driver.id)).toEqual(before);
    } finally {
      await phone.close();
    }
  });
});

describe('what tracking keeps in process', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Counts the reads of a driver's active orders (batched reads that include the driver). */
  function countOrderReads(driverId: string) {
    const query = vi.spyOn(tp.infra.db, 'query');
    return () =>
      query.mock.calls.filter(
        ([sql, params]) =>
          String(sql).includes('FROM orders WHERE driver_id = ANY') &&
          Array.isArray(params?.[0]) &&
          (params[0] as unknown[]).includes(driverId),
      ).length;
  }

  async function sendLocations(phone: WsClient, count: number, from = 1) {
    for (let seq = from; seq < from + count; seq++) {
      phone.send({
        type: 'location',
        lat: HEIDELBERG.lat + seq * 0.0001,
        lng: HEIDELBERG.lng,
        seq,
      });
      expect(await phone.next((m) => m.seq === seq)).toEqual({ type: 'ack', seq });
    }
  }

  it("reads a driver's orders once, not from Redis or the database on every update", async () => {
    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
    const cacheGet = vi.spyOn(tp.infra.kv.cache, 'get');
    const orderReads = countOrderReads(driver.id);
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    try {
      await sendLocations(phone, 5);
      await vi.waitFor(() => expect(orderReads()).toBe(1));
      await sendLocations(phone, 5, 6);
      expect(orderReads()).toBe(1);
      expect(cacheGet).not.toHaveBeenCalled();
    } finally {
      await phone.close();
    }
  });

  it('answers a move with its ETA from the moved order, without reading the order again', async () => {
    const { orderId } = await assignedOrder();
    const query = vi.spyOn(tp.infra.db, 'query');
    const res = await api('POST', `/api/v1/merchant/orders/${orderId}/preparing`, {
      token: store.owner.token,
    });
    expect(res.status).toBe(200);
    expect(res.body.order.eta.minutes).toBeGreaterThan(0);
    const trackReads = query.mock.calls.filter(
      ([sql, params]) => String(sql).includes('AS prep_minutes') && params?.[0] === orderId,
    );
    expect(trackReads).toEqual([]);
  });

  it('shares one database read between concurrent misses of one driver', async () => {
    const driverId = randomUUID();
    const orderReads = countOrderReads(driverId);
    for (let i = 0; i < 5; i++) {
      tp.services.tracking.onLocation({
        driverId,
        lat: HEIDELBERG.lat,
        lng: HEIDELBERG.lng,
        heading: null,
        recordedAt: Date.now() + i,
      });
    }
    await vi.waitFor(() => expect(orderReads()).toBe(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(orderReads()).toBe(1);
  });

  it('reads the orders of drivers first seen together in one query', async () => {
    const drivers = Array.from({ length: 5 }, () => randomUUID());
    const query = vi.spyOn(tp.infra.db, 'query');
    for (const driverId of drivers) {
      tp.services.tracking.onLocation({
        driverId,
        lat: HEIDELBERG.lat,
        lng: HEIDELBERG.lng,
        heading: null,
        recordedAt: Date.now(),
      });
    }
    const reads = () =>
      query.mock.calls.filter(([sql]) => String(sql).includes('FROM orders WHERE driver_id = ANY'));
    await vi.waitFor(() => expect(reads()).toHaveLength(1));
    expect([...(reads()[0]![1]![0] as string[])].sort()).toEqual([...drivers].sort());
  });

  it("drops a driver's cached orders when another instance says so on the bus", async () => {
    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
    const orderReads = countOrderReads(driver.id);
    const phone = await connectWs(tp.baseUrl, { token: driver.token });
    let seq = 1;
    try {
      await sendLocations(phone, 1, seq++);
      await vi.waitFor(() => expect(orderReads()).toBe(1));
      await sendLocations(phone, 1, seq++);
      expect(orderReads()).toBe(1);
      await tp.infra.kv.bus.publish(
        TRACKING_INVALIDATE_CHANNEL,
        JSON.stringify({ from: 'another-instance', orderId: randomUUID(), driverIds: [driver.id] }),
      );
      // The message arrives asynchronously (Redis pub/sub in real mode); then one refill.
      await vi.waitFor(async () => {
        await sendLocations(phone, 1, seq++);
        expect(orderReads()).toBe(2);
      });
    } finally {
      await phone.close();
    }
  });

  it('streams a driver who reported before the assignment as soon as it is assigned', async () => {
    let phone: WsClient | undefined;
    const watcher = await connectWs(tp.baseUrl, { token: customer.token });
    try {
      // The driver's first report caches "carries nothing"; the assignment must drop that.
      const { orderId, driver } = await assignedOrder(async (d) => {
        phone = await connectWs(tp.baseUrl, { token: d.token });
        phone.send({ type: 'location', lat: HEIDELBERG.lat, lng: HEIDELBERG.lng, seq: 1 });
        await phone.next((m) => m.type === 'ack' && m.seq === 1);
      });
      watcher.send({ type: 'subscribe', channel: `order:${orderId}` });
      await watcher.next((m) => m.type === 'subscribed');
      phone!.send({ type: 'location', lat: HEIDELBERG.lat + 0.001, lng: HEIDELBERG.lng, seq: 2 });
      await phone!.next((m) => m.type === 'ack' && m.seq === 2);
      const moved = await watcher.next(isEvent(`order:${orderId}`, 'order.driver_location'), 2_000);
      expect(moved.data).toMatchObject({ driverId: driver.id, lat: HEIDELBERG.lat + 0.001 });
    } finally {
      await watcher.close();
      await phone?.close();
    }
  });
});

describe('the delivery time predicted at pickup', () => {
  const metric = async (name: string): Promise<number> => {
    const text = (await api<string>('GET', '/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  it("is stored with the pickup, from the driver's position, and scored at delivery", async () => {
    const { orderId, driver } = await assignedOrder();
    for (const step of ['preparing', 'ready']) {
      const res = await api('POST', `/api/v1/merchant/orders/${orderId}/${step}`, {
        token: store.owner.token,
      });
      expect(res.status).toBe(200);
    }
    const pickup = await api('POST', `/api/v1/driver/orders/${orderId}/picked-up`, {
      token: driver.token,
    });
    expect(pickup.status).toBe(200);
    const { rows } = await tp.infra.db.query<{
      predicted: Date | null;
      picked_up_at: Date;
      from: { lat: number; lng: number };
      to: { lat: number; lng: number };
      vehicle_type: string;
    }>(
      `SELECT o.predicted_delivery_at AS predicted, o.picked_up_at, d.vehicle_type,
              json_build_object('lat', d.current_lat, 'lng', d.current_lng) AS "from",
              json_build_object('lat', o.delivery_lat, 'lng', o.delivery_lng) AS "to"
       FROM orders o JOIN drivers d ON d.id = o.driver_id WHERE o.id = $1`,
      [orderId],
    );
    const row = rows[0]!;
    expect(row.predicted).toBeInstanceOf(Date);
    const minutes = legMinutes(row.from, row.to, row.vehicle_type, tp.config.eta);
    expect(minutes).toBeGreaterThan(0);
    // Predicted by the server's clock a moment before the database stamped the pickup.
    const ahead = row.predicted!.getTime() - row.picked_up_at.getTime();
    expect(Math.abs(ahead - minutes * 60_000)).toBeLessThan(1_000);

    const scored = await metric('delivery_eta_error_seconds_count');
    const delivered = await api('POST', `/api/v1/driver/orders/${orderId}/delivered`, {
      token: driver.token,
    });
    expect(delivered.status).toBe(200);
    await expect.poll(() => metric('delivery_eta_error_seconds_count')).toBe(scored + 1);
  });
});
