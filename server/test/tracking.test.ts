import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

/** An order confirmed and accepted by a fresh driver standing next to the store. */
async function assignedOrder(): Promise<{ orderId: string; driver: TestUser }> {
  const driver = await registerUser(api, 'driver');
  await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
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
