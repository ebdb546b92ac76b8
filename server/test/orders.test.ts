import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStore,
  newKey,
  orderBody,
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
let store: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  customer = await registerUser(api, 'customer');
  store = await createStore(tp, api, { prices: [850, 1200, 300], unavailable: [2] });
});
afterAll(() => tp?.stop());

const countOrders = async () =>
  (await tp.infra.db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;

describe('placing an order', () => {
  it('prices it on the server and stores items, totals and an audit row', async () => {
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': newKey() },
      body: orderBody(store, {
        items: [
          { menuItemId: store.items[0]!.id, quantity: 2 },
          { menuItemId: store.items[1]!.id, quantity: 1 },
        ],
        tipCents: 250,
      }),
    });
    expect(res.status).toBe(201);
    const order = res.body.order;
    expect(order.status).toBe('pending');
    expect(order.subtotalCents).toBe(2 * 850 + 1200);
    expect(order.tipCents).toBe(250);
    expect(order.deliveryFeeCents).toBeGreaterThanOrEqual(199);
    expect(order.totalCents).toBe(order.subtotalCents + order.deliveryFeeCents + 250);
    expect(order.items).toHaveLength(2);
    expect(order.timestamps.createdAt).toMatch(/Z$/);
    const events = await tp.infra.db.query(
      'SELECT to_status FROM order_events WHERE order_id = $1',
      [order.id],
    );
    expect(events.rows).toEqual([{ to_status: 'pending' }]);
  });

  it('answers the order exactly as it is read back later, lines in their stored order', async () => {
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': newKey() },
      body: orderBody(store, {
        items: [
          { menuItemId: store.items[1]!.id, quantity: 1 },
          { menuItemId: store.items[0]!.id, quantity: 2 },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const placed = res.body.order;
    expect(placed.items).toHaveLength(2);
    const read = await api('GET', `/api/v1/orders/${placed.id}`, { token: customer.token });
    expect(read.status).toBe(200);
    // The placement's answer carries no ETA (as before); a read adds the live one.
    expect(placed).toEqual({ ...read.body.order, eta: null });
  });

  it('merges repeated lines of the same item', async () => {
    const order = await placeOrder(api, customer, store, {
      items: [
        { menuItemId: store.items[0]!.id, quantity: 1 },
        { menuItemId: store.items[0]!.id, quantity: 3 },
      ],
    });
    const full = await api('GET', `/api/v1/orders/${order.id}`, { token: customer.token });
    expect(full.body.order.items).toEqual([
      expect.objectContaining({ quantity: 4, lineTotalCents: 4 * 850 }),
    ]);
  });

  const rejections: Array<[string, (s: TestStore) => Record<string, unknown>, number, string]> = [
    [
      'zero quantity',
      (s) => ({ items: [{ menuItemId: s.items[0]!.id, quantity: 0 }] }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'negative quantity',
      (s) => ({ items: [{ menuItemId: s.items[0]!.id, quantity: -1 }] }),
      400,
      'VALIDATION_FAILED',
    ],
    [
      'quantity above 50',
      (s) => ({ items: [{ menuItemId: s.items[0]!.id, quantity: 51 }] }),
      400,
      'VALIDATION_FAILED',
    ],
    ['no items', () => ({ items: [] }), 400, 'VALIDATION_FAILED'],
    ['a negative tip', () => ({ tipCents: -5 }), 400, 'VALIDATION_FAILED'],
    ['a fractional tip', () => ({ tipCents: 1.5 }), 400, 'VALIDATION_FAILED'],
    ['an unknown field', () => ({ priceOverride: 1 }), 400, 'VALIDATION_FAILED'],
    ['latitude out of range', () => ({ deliveryLat: 123 }), 400, 'VALIDATION_FAILED'],
    [
      'an unknown item',
      () => ({ items: [{ menuItemId: crypto.randomUUID(), quantity: 1 }] }),
      422,
      'UNKNOWN_MENU_ITEM',
    ],
    [
      'an unavailable item',
      (s) => ({ items: [{ menuItemId: s.items[2]!.id, quantity: 1 }] }),
      422,
      'MENU_ITEM_UNAVAILABLE',
    ],
    [
      'an address outside the radius',
      () => ({ deliveryLat: 49.6, deliveryLng: 8.9 }),
      422,
      'OUTSIDE_DELIVERY_AREA',
    ],
    ['an unknown merchant', () => ({ merchantId: crypto.randomUUID() }), 422, 'UNKNOWN_MERCHANT'],
  ];

  it.each(rejections)(
    'refuses %s with %i and writes nothing',
    async (_name, overrides, status, code) => {
      const before = await countOrders();
      const res = await api('POST', '/api/v1/orders', {
        token: customer.token,
        headers: { 'x-idempotency-key': newKey() },
        body: orderBody(store, overrides(store)),
      });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toEqual(expect.any(String));
      expect(await countOrders()).toBe(before);
    },
  );

  it("refuses another merchant's item with 422", async () => {
    const other = await createStore(tp, api);
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': newKey() },
      body: orderBody(store, { items: [{ menuItemId: other.items[0]!.id, quantity: 1 }] }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('UNKNOWN_MENU_ITEM');
  });

  it('refuses a closed merchant with 422', async () => {
    const closed = await createStore(tp, api, { isOpen: false });
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': newKey() },
      body: orderBody(closed),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('MERCHANT_CLOSED');
  });

  it('answers malformed JSON with 400, never 5xx', async () => {
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': newKey() },
      rawBody: '{"merchantId": ',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_REQUEST');
  });

  it('requires an idempotency key', async () => {
    const res = await api('POST', '/api/v1/orders', {
      token: customer.token,
      body: orderBody(store),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/x-idempotency-key/);
  });
});

describe('idempotency', () => {
  it('replays the first status and body for the same key and body without a second order', async () => {
    const key = newKey();
    const send = () =>
      api('POST', '/api/v1/orders', {
        token: customer.token,
        headers: { 'x-idempotency-key': key },
        body: orderBody(store),
      });
    const first = await send();
    const before = await countOrders();
    const second = await send();
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await countOrders()).toBe(before);
  });

  it('makes exactly one order from 20 concurrent requests with one key', async () => {
    const key = newKey();
    const before = await countOrders();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        api('POST', '/api/v1/orders', {
          token: customer.token,
          headers: { 'x-idempotency-key': key },
          body: orderBody(store),
        }),
      ),
    );
    expect(await countOrders()).toBe(before + 1);
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.order.id)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    }
  });

  it('answers 422 when the same key comes with another body', async () => {
    const key = newKey();
    const first = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store),
    });
    expect(first.status).toBe(201);
    const before = await countOrders();
    const second = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store, { tipCents: 999 }),
    });
    expect(second.status).toBe(422);
    expect(second.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await countOrders()).toBe(before);
  });

  it('treats the same key from another user as a different order', async () => {
    const key = newKey();
    const other = await registerUser(api, 'customer');
    const a = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store),
    });
    const b = await api('POST', '/api/v1/orders', {
      token: other.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store),
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.order.id).not.toBe(a.body.order.id);
    expect(b.body.order.customerId).toBe(other.id);
  });

  it('does not remember a failed request, so the fixed retry with the same key succeeds', async () => {
    const key = newKey();
    const bad = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store, { items: [{ menuItemId: store.items[2]!.id, quantity: 1 }] }),
    });
    expect(bad.status).toBe(422);
    const good = await api('POST', '/api/v1/orders', {
      token: customer.token,
      headers: { 'x-idempotency-key': key },
      body: orderBody(store),
    });
    expect(good.status).toBe(201);
  });
});

describe('reading and cancelling', () => {
  it("lists a customer's own orders newest first with a working cursor", async () => {
    const me = await registerUser(api, 'customer');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await placeOrder(api, me, store)).id);
    const page1 = await api('GET', '/api/v1/orders?limit=2', { token: me.token });
    expect(page1.body.items.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    const page2 = await api('GET', `/api/v1/orders?limit=2&cursor=${page1.body.nextCursor}`, {
      token: me.token,
    });
    expect(page2.body.items.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it("hides another customer's order behind 404", async () => {
    const order = await placeOrder(api, customer, store);
    const stranger = await registerUser(api, 'customer');
    const read = await api('GET', `/api/v1/orders/${order.id}`, { token: stranger.token });
    expect(read.status).toBe(404);
    const cancel = await api('POST', `/api/v1/orders/${order.id}/cancel`, {
      token: stranger.token,
    });
    expect(cancel.status).toBe(404);
    const still = await api('GET', `/api/v1/orders/${order.id}`, { token: customer.token });
    expect(still.body.order.status).toBe('pending');
  });

  it('lets the customer cancel before pickup and refuses a second cancel with 409 and the status', async () => {
    const order = await placeOrder(api, customer, store);
    const first = await api('POST', `/api/v1/orders/${order.id}/cancel`, {
      token: customer.token,
      body: { reason: 'changed my mind' },
    });
    expect(first.status).toBe(200);
    expect(first.body.order.status).toBe('cancelled');
    expect(first.body.order.cancelReason).toBe('changed my mind');
    expect(first.body.order.timestamps.cancelledAt).not.toBeNull();
    const second = await api('POST', `/api/v1/orders/${order.id}/cancel`, {
      token: customer.token,
    });
    expect(second.status).toBe(409);
    expect(second.body.error.details.currentStatus).toBe('cancelled');
  });
});

describe('the merchant flow', () => {
  it('moves an order to ready_for_pickup through its queue, stamping each state', async () => {
    const order = await placeOrder(api, customer, store);
    const queue = await api('GET', '/api/v1/merchant/orders?status=pending', {
      token: store.owner.token,
    });
    expect(queue.body.items.map((o: { id: string }) => o.id)).toContain(order.id);
    for (const [action, status] of [
      ['confirm', 'confirmed'],
      ['preparing', 'preparing'],
      ['ready', 'ready_for_pickup'],
    ] as const) {
      const res = await api('POST', `/api/v1/merchant/orders/${order.id}/${action}`, {
        token: store.owner.token,
      });
      expect(res.status).toBe(200);
      expect(res.body.order.status).toBe(status);
    }
    const final = await api('GET', `/api/v1/orders/${order.id}`, { token: store.owner.token });
    const t = final.body.order.timestamps;
    expect([t.confirmedAt, t.preparingAt, t.readyAt].every(Boolean)).toBe(true);
    const audit = await tp.infra.db.query<{ to_status: string }>(
      'SELECT to_status FROM order_events WHERE order_id = $1 ORDER BY id',
      [order.id],
    );
    expect(audit.rows.map((r) => r.to_status)).toEqual([
      'pending',
      'confirmed',
      'preparing',
      'ready_for_pickup',
    ]);
  });

  it('answers 409 with the current status for a step out of order', async () => {
    const order = await placeOrder(api, customer, store);
    const res = await api('POST', `/api/v1/merchant/orders/${order.id}/ready`, {
      token: store.owner.token,
    });
    expect(res.status).toBe(409);
    expect(res.body.error.details.currentStatus).toBe('pending');
  });

  it("cannot see or move another store's order", async () => {
    const order = await placeOrder(api, customer, store);
    const other = await createStore(tp, api);
    expect(
      (
        await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, {
          token: other.owner.token,
        })
      ).status,
    ).toBe(404);
    expect(
      (await api('GET', `/api/v1/orders/${order.id}`, { token: other.owner.token })).status,
    ).toBe(404);
  });

  it('rejects a pending order, which cancels it', async () => {
    const order = await placeOrder(api, customer, store);
    const res = await api('POST', `/api/v1/merchant/orders/${order.id}/reject`, {
      token: store.owner.token,
      body: { reason: 'out of dough' },
    });
    expect(res.body.order.status).toBe('cancelled');
    expect(res.body.order.cancelReason).toBe('out of dough');
  });

  it('lets exactly one of two racing moves win', async () => {
    const order = await placeOrder(api, customer, store);
    const [a, b] = await Promise.all([
      api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, { token: store.owner.token }),
      api('POST', `/api/v1/merchant/orders/${order.id}/reject`, { token: store.owner.token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const audit = await tp.infra.db.query('SELECT 1 FROM order_events WHERE order_id = $1', [
      order.id,
    ]);
    expect(audit.rowCount).toBe(2);
  });
});
