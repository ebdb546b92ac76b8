import type { OrderStatus } from '@delivery/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStore,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let api: Api;
let customer: TestUser;
let driver: TestUser;
let store: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  customer = await registerUser(api, 'customer');
  driver = await registerUser(api, 'driver');
  store = await createStore(tp, api);
});
afterAll(() => tp?.stop());

/** An order of `who` driven by `by`, put straight into `status` (no dispatch needed). */
async function orderIn(status: OrderStatus, who = customer, by = driver, at = store) {
  const order = await placeOrder(api, who, at);
  await tp.infra.db.query(
    `UPDATE orders SET status = $2, driver_id = $3,
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1`,
    [order.id, status, by.id],
  );
  return order.id;
}
const rateAsCustomer = (orderId: string, body: unknown, who = customer) =>
  api('POST', `/api/v1/orders/${orderId}/rating`, { token: who.token, body });
const rateAsDriver = (orderId: string, body: unknown, who = driver) =>
  api('POST', `/api/v1/driver/orders/${orderId}/rating`, { token: who.token, body });
const ratingRows = async (orderId: string) =>
  (
    await tp.infra.db.query<{ ratee_kind: string; stars: number }>(
      'SELECT ratee_kind, stars FROM ratings WHERE order_id = $1 ORDER BY ratee_kind',
      [orderId],
    )
  ).rows;
const average = async (table: 'drivers' | 'merchants' | 'users', id: string) =>
  (
    await tp.infra.db.query<{ rating: number | null; rating_count: number }>(
      `SELECT rating, rating_count FROM ${table} WHERE id = $1`,
      [id],
    )
  ).rows[0]!;

describe('who may rate, and when', () => {
  it.each(['pending', 'picked_up', 'cancelled'] as const)(
    'refuses to rate a %s order with 409 and its status',
    async (status) => {
      const id = await orderIn(status);
      for (const res of [
        await rateAsCustomer(id, { driverStars: 5 }),
        await rateAsDriver(id, { customerStars: 5 }),
      ]) {
        expect(res.status).toBe(409);
        expect(res.body.error).toMatchObject({
          code: 'NOT_DELIVERED',
          details: { currentStatus: status },
        });
      }
      expect(await ratingRows(id)).toEqual([]);
    },
  );

  it('answers 404 to anyone but the customer and the driver of the order', async () => {
    const id = await orderIn('delivered');
    const otherCustomer = await registerUser(api, 'customer');
    const otherDriver = await registerUser(api, 'driver');
    expect((await rateAsCustomer(id, { merchantStars: 1 }, otherCustomer)).status).toBe(404);
    expect((await rateAsDriver(id, { customerStars: 1 }, otherDriver)).status).toBe(404);
    expect((await rateAsCustomer(crypto.randomUUID(), { merchantStars: 1 })).status).toBe(404);
    expect(await ratingRows(id)).toEqual([]);
  });
});

describe('once per order and direction', () => {
  it('takes each direction once and answers a repeat with 409', async () => {
    const id = await orderIn('delivered');
    const first = await rateAsCustomer(id, { driverStars: 5, merchantStars: 4, comment: 'Hot!' });
    expect(first.status).toBe(201);
    expect(first.body.ratings).toEqual([
      expect.objectContaining({
        rateeKind: 'driver',
        rateeId: driver.id,
        stars: 5,
        comment: 'Hot!',
      }),
      expect.objectContaining({ rateeKind: 'merchant', rateeId: store.id, stars: 4 }),
    ]);
    expect((await rateAsDriver(id, { customerStars: 3 })).status).toBe(201);
    for (const res of [
      await rateAsCustomer(id, { driverStars: 1 }),
      await rateAsCustomer(id, { merchantStars: 1 }),
      await rateAsDriver(id, { customerStars: 1 }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('ALREADY_RATED');
    }
    expect(await ratingRows(id)).toEqual([
      { ratee_kind: 'customer', stars: 3 },
      { ratee_kind: 'driver', stars: 5 },
      { ratee_kind: 'merchant', stars: 4 },
    ]);
    const listed = await api('GET', `/api/v1/orders/${id}/ratings`, { token: customer.token });
    expect(listed.body.ratings).toHaveLength(3);
  });

  it('writes nothing when one of the two directions was rated already', async () => {
    const id = await orderIn('delivered');
    expect((await rateAsCustomer(id, { merchantStars: 2 })).status).toBe(201);
    const driverBefore = await average('drivers', driver.id);
    const res = await rateAsCustomer(id, { driverStars: 4, merchantStars: 5 });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual({ rateeKind: 'merchant' });
    expect(await ratingRows(id)).toEqual([{ ratee_kind: 'merchant', stars: 2 }]);
    expect(await average('drivers', driver.id)).toEqual(driverBefore);
  });

  it('keeps exactly one rating when the same one is sent several times at once', async () => {
    const id = await orderIn('delivered');
    const before = await average('drivers', driver.id);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => rateAsCustomer(id, { driverStars: 4 })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await ratingRows(id)).toEqual([{ ratee_kind: 'driver', stars: 4 }]);
    expect((await average('drivers', driver.id)).rating_count).toBe(before.rating_count + 1);
  });
});

describe('averages', () => {
  it('keeps the averages of driver, store and customer over two orders', async () => {
    const [buyer, courier] = [
      await registerUser(api, 'customer'),
      await registerUser(api, 'driver'),
    ];
    const shop = await createStore(tp, api);
    for (const [driverStars, merchantStars, customerStars] of [
      [5, 4, 3],
      [2, 5, 4],
    ] as const) {
      const id = await orderIn('delivered', buyer, courier, shop);
      expect((await rateAsCustomer(id, { driverStars, merchantStars }, buyer)).status).toBe(201);
      expect((await rateAsDriver(id, { customerStars }, courier)).status).toBe(201);
    }
    expect(await average('drivers', courier.id)).toEqual({ rating: 3.5, rating_count: 2 });
    expect(await average('merchants', shop.id)).toEqual({ rating: 4.5, rating_count: 2 });
    expect(await average('users', buyer.id)).toEqual({ rating: 3.5, rating_count: 2 });
    const merchant = await api('GET', `/api/v1/merchants/${shop.id}`);
    expect(merchant.body.merchant.rating).toBe(4.5);
  });
});

describe('validation', () => {
  it.each([
    ['zero stars', { driverStars: 0 }],
    ['six stars', { merchantStars: 6 }],
    ['half stars', { driverStars: 2.5 }],
    ['stars as text', { driverStars: '5' }],
    ['an empty body', {}],
    ['only a comment', { comment: 'nice' }],
    ['an unknown field', { driverStars: 5, tip: 1 }],
    ['a long comment', { driverStars: 5, comment: 'x'.repeat(501) }],
  ])('refuses a customer rating with %s (400)', async (_name, body) => {
    const id = await orderIn('delivered');
    const res = await rateAsCustomer(id, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(await ratingRows(id)).toEqual([]);
  });

  it.each([
    ['zero stars', { customerStars: 0 }],
    ['six stars', { customerStars: 6 }],
    ['half stars', { customerStars: 2.5 }],
    ['an empty body', {}],
  ])('refuses a driver rating with %s (400)', async (_name, body) => {
    const id = await orderIn('delivered');
    const res = await rateAsDriver(id, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});
