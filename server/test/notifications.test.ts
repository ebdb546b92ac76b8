import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotencyService } from '../src/idempotency/idempotency.service.ts';
import { createOrdersService, type TransitionListener } from '../src/orders/orders.service.ts';
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
let store: TestStore;
let driver: TestUser;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  store = await createStore(tp, api);
  driver = await registerUser(api, 'driver');
});
afterAll(() => tp?.stop());

const inbox = async (user: TestUser, query = '') => {
  const res = await api('GET', `/api/v1/notifications${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return res.body as { items: any[]; nextCursor: string | null; unread: number };
};
const move = (orderId: string, action: string) =>
  api('POST', `/api/v1/merchant/orders/${orderId}/${action}`, { token: store.owner.token });
const countAll = async () =>
  (await tp.infra.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications')).rows[0]!
    .n;
/** The live `notification` events of a channel, as its replay log holds them. */
const liveNotifications = async (channel: string) =>
  (await tp.infra.kv.events.readAfter(channel, null, 100))
    .map((e) => JSON.parse(e.payload) as { type: string; data: any })
    .filter((e) => e.type === 'notification')
    .map((e) => e.data);

describe('notifications of status changes', () => {
  it('tells the customer and the store owner that an order was placed', async () => {
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    expect((await inbox(customer)).items).toEqual([
      expect.objectContaining({ type: 'order.pending', title: 'Order placed', orderId: order.id }),
    ]);
    const owner = await inbox(store.owner);
    expect(owner.items[0]).toMatchObject({ type: 'order.pending', title: 'New order' });
    expect(owner.items[0].body).toContain(order.id.slice(0, 8));
  });

  it('stores and pushes a change to customer, store owner and assigned driver', async () => {
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    await tp.infra.db.query('UPDATE orders SET driver_id = $2 WHERE id = $1', [
      order.id,
      driver.id,
    ]);
    expect((await move(order.id, 'confirm')).status).toBe(200);

    const expected = { type: 'order.confirmed', orderId: order.id, readAt: null };
    const [forCustomer] = (await inbox(customer)).items;
    const [forOwner] = (await inbox(store.owner)).items;
    const [forDriver] = (await inbox(driver)).items;
    expect(forCustomer).toMatchObject({ ...expected, title: 'Order confirmed' });
    expect(forCustomer.body).toMatch(/^Store .+ confirmed your order\.$/);
    expect(forOwner).toMatchObject(expected);
    expect(forDriver).toMatchObject(expected);

    await expect
      .poll(() => liveNotifications(`order:${order.id}`))
      .toContainEqual({ ...forCustomer, userId: customer.id });
    await expect
      .poll(() => liveNotifications(`merchant:${store.id}`))
      .toContainEqual({ ...forOwner, userId: store.owner.id });
    await expect
      .poll(() => liveNotifications(`driver:${driver.id}`))
      .toContainEqual({ ...forDriver, userId: driver.id });
  });

  it('says who cancelled and why', async () => {
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    const res = await api('POST', `/api/v1/merchant/orders/${order.id}/reject`, {
      token: store.owner.token,
      body: { reason: 'out of dough' },
    });
    expect(res.status).toBe(200);
    expect((await inbox(customer)).items[0]).toMatchObject({
      type: 'order.cancelled',
      title: 'Order declined',
      body: expect.stringContaining('Reason: out of dough.'),
    });
  });

  it('writes nothing for an illegal transition', async () => {
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    const before = await countAll();
    expect((await move(order.id, 'ready')).status).toBe(409);
    expect(await countAll()).toBe(before);
  });

  /** An orders service on the test platform with only `listeners`, and an order to move. */
  async function withListeners(listeners: TransitionListener[]) {
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    const orders = createOrdersService({
      db: tp.infra.db,
      idempotency: createIdempotencyService({ db: tp.infra.db }),
      publisher: tp.services.publisher,
      listeners,
    });
    const confirm = () =>
      orders.transition(order.id, 'confirmed', { id: store.owner.id, role: 'merchant' });
    return { order, confirm };
  }

  it('rolls its rows back and announces nothing when a later listener fails', async () => {
    const { order, confirm } = await withListeners([
      tp.services.notifications.onStatusChange,
      async () => {
        throw new Error('listener failed');
      },
    ]);
    await expect.poll(() => liveNotifications(`order:${order.id}`)).toHaveLength(1);
    const before = await countAll();
    await expect(confirm()).rejects.toThrow('listener failed');
    expect(await countAll()).toBe(before);
    await new Promise((r) => setTimeout(r, 100));
    expect(await liveNotifications(`order:${order.id}`)).toHaveLength(1);
  });

  it("refuses a listener's statement sent after its first await, which COMMIT may have passed", async () => {
    const { confirm } = await withListeners([
      async (tx) => {
        await new Promise((r) => setTimeout(r, 1));
        await tx.query('SELECT 1');
      },
    ]);
    await expect(confirm()).rejects.toThrow('after its first await');
  });
});

describe('the notification list', () => {
  let customer: TestUser;
  beforeAll(async () => {
    customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    await move(order.id, 'confirm');
    await move(order.id, 'preparing');
  });

  it('lists own notifications newest first, a page at a time, with the unread count', async () => {
    const first = await inbox(customer, '?limit=2');
    expect(first.items.map((n) => n.type)).toEqual(['order.preparing', 'order.confirmed']);
    expect(first.unread).toBe(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await inbox(customer, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((n) => n.type)).toEqual(['order.pending']);
    expect(second.nextCursor).toBeNull();
  });

  it('marks one read, idempotently, and filters unread ones', async () => {
    const [latest] = (await inbox(customer)).items;
    const read = async () =>
      api('POST', `/api/v1/notifications/${latest.id}/read`, { token: customer.token });
    const once = await read();
    expect(once.status).toBe(200);
    expect(once.body.notification.readAt).toEqual(expect.any(String));
    const twice = await read();
    expect(twice.status).toBe(200);
    expect(twice.body.notification.readAt).toBe(once.body.notification.readAt);

    const unread = await inbox(customer, '?unread=true');
    expect(unread.items.map((n) => n.type)).toEqual(['order.confirmed', 'order.pending']);
    expect(unread.unread).toBe(2);
    expect((await inbox(customer, '?unread=false')).items).toHaveLength(3);
  });

  it("answers 404 for another user's notification and leaves it unread", async () => {
    const [target] = (await inbox(customer, '?unread=true')).items;
    const stranger = await registerUser(api, 'customer');
    for (const id of [target.id, crypto.randomUUID()]) {
      const res = await api('POST', `/api/v1/notifications/${id}/read`, { token: stranger.token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await inbox(customer, '?unread=true')).items[0]).toMatchObject({
      id: target.id,
      readAt: null,
    });
    expect((await inbox(stranger)).items).toEqual([]);
  });

  it.each(['?limit=0', '?limit=101', '?unread=yes', '?cursor=bogus'])(
    'refuses the query %s with 400',
    async (query) => {
      const res = await api('GET', `/api/v1/notifications${query}`, { token: customer.token });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    },
  );
});

describe('the notification of an offer', () => {
  it('is stored and pushed only if its offer exists when it is inserted', async () => {
    const channel = `driver:${driver.id}`;
    const notifyOf = (offerId: string) =>
      tp.infra.db.transaction((tx) =>
        tp.services.notifications.notify(tx, {
          userId: driver.id,
          type: 'offer.new',
          title: 'New delivery offer',
          body: 'Earn €4.00',
          orderId: null,
          channel,
          ifOfferExists: offerId,
        }),
      );
    const stored = async () =>
      (
        await tp.infra.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM notifications WHERE user_id = $1',
          [driver.id],
        )
      ).rows[0]!.n;
    const before = await stored();
    const pushed = (await liveNotifications(channel)).map((n) => n.id);
    expect(await notifyOf(randomUUID())).toBeNull();
    expect(await stored()).toBe(before);

    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    const offer = await tp.infra.db.query<{ id: string }>(
      `INSERT INTO driver_offers (order_id, driver_id, score, distance_km, earnings_cents, expires_at)
       VALUES ($1, $2, 1, 0.5, 400, now() + interval '30 seconds') RETURNING id`,
      [order.id, driver.id],
    );
    const kept = await notifyOf(offer.rows[0]!.id);
    expect(kept).toMatchObject({ type: 'offer.new', title: 'New delivery offer' });
    expect(await stored()).toBe(before + 1);
    expect((await liveNotifications(channel)).map((n) => n.id)).toEqual([...pushed, kept!.id]);
  });
});
