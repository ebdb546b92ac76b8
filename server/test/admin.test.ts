import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAdmin,
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
let admin: TestUser;
let customer: TestUser;
let store: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  admin = await createAdmin(tp, api);
  customer = await registerUser(api, 'customer');
  store = await createStore(tp, api);
});
afterAll(() => tp?.stop());

const get = (path: string) => api('GET', `/api/v1/admin${path}`, { token: admin.token });
const sql = (text: string, params: unknown[] = []) => tp.infra.db.query(text, params);

async function driverWith(status: 'online' | 'offline', received: number, accepted: number) {
  const d = await registerUser(api, 'driver');
  await sql(
    `UPDATE drivers SET status = $2, offers_received = $3, offers_accepted = $4,
       current_lat = 49.41, current_lng = 8.69, location_updated_at = now() WHERE id = $1`,
    [d.id, status, received, accepted],
  );
  return d;
}

/** An order moved by SQL: times are minutes after its creation, offers its offer count. */
async function orderAt(status: string, t: Record<string, number>, extra = '', at = store) {
  const { id } = await placeOrder(api, customer, at);
  const set = Object.entries(t).map(([column, minutes]) => {
    return `${column} = created_at + interval '${minutes} minutes'`;
  });
  await sql(
    `UPDATE orders SET status = $2 ${set.map((s) => `, ${s}`).join('')} ${extra} WHERE id = $1`,
    [id, status],
  );
  return id;
}

describe('GET /admin/stats', () => {
  it('reports the numbers of a known scenario', async () => {
    const d1 = await driverWith('online', 4, 3);
    await driverWith('online', 2, 1);
    await driverWith('offline', 0, 0);
    const by = (d: TestUser, offers: number) => `, driver_id = '${d.id}', offers_count = ${offers}`;
    // match: 10 s, 30 s, 20 s; delivery: 30 min, 50 min.
    await orderAt(
      'delivered',
      { confirmed_at: 1, assigned_at: 1 + 10 / 60, delivered_at: 30 },
      by(d1, 1),
    );
    await orderAt('delivered', { confirmed_at: 2, assigned_at: 2.5, delivered_at: 50 }, by(d1, 3));
    await orderAt('preparing', { confirmed_at: 1, assigned_at: 1 + 20 / 60 }, by(d1, 2));
    await orderAt('confirmed', { confirmed_at: 1 }, ', needs_attention_at = now()');
    await orderAt('cancelled', { cancelled_at: 1 });

    const res = await get('/stats');
    expect(res.status).toBe(200);
    const s = res.body;
    expect(s.ordersByStatus).toEqual({
      pending: 0,
      confirmed: 1,
      preparing: 1,
      ready_for_pickup: 0,
      picked_up: 0,
      delivered: 2,
      cancelled: 1,
    });
    const today = await sql(
      `SELECT count(*)::int AS n FROM orders
       WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
    );
    expect(s.ordersToday).toBe(today.rows[0]!.n);
    expect(s.ordersToday).toBeGreaterThan(0);
    expect(s).toMatchObject({ onlineDrivers: 2, activeOrders: 2, needsAttention: 1 });
    expect(s.matchSeconds.p50).toBeCloseTo(20, 3);
    expect(s.matchSeconds.p90).toBeCloseTo(28, 3);
    expect(s.matchSeconds.p95).toBeCloseTo(29, 3);
    expect(s.deliveryMinutes.p50).toBeCloseTo(40, 3);
    expect(s.deliveryMinutes.p90).toBeCloseTo(48, 3);
    expect(s.deliveryMinutes.p95).toBeCloseTo(49, 3);
    expect(s.acceptanceRate).toBeCloseTo(4 / 6, 6);
    expect(s.offersPerAssignment).toBe(2);
  });
});

describe('GET /admin/orders', () => {
  let shop: TestStore;
  let driver: TestUser;
  const ids: string[] = [];
  beforeAll(async () => {
    shop = await createStore(tp, api);
    driver = await driverWith('online', 0, 0);
    ids.push(await orderAt('pending', {}, '', shop));
    ids.push(await orderAt('confirmed', { confirmed_at: 1 }, `, driver_id = '${driver.id}'`, shop));
    ids.push(await orderAt('confirmed', {}, ', needs_attention_at = now()', shop));
  });
  const list = async (query: string) => {
    const res = await get(`/orders?merchantId=${shop.id}&${query}`);
    expect(res.status).toBe(200);
    return res.body as { items: any[]; nextCursor: string | null };
  };
  const idsOf = (page: { items: any[] }) => page.items.map((o) => o.id);

  it('filters by store, status, driver and attention, newest first', async () => {
    expect(idsOf(await list(''))).toEqual([...ids].reverse());
    expect(idsOf(await list('status=confirmed'))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await list(`driverId=${driver.id}`))).toEqual([ids[1]]);
    expect(idsOf(await list('needsAttention=true'))).toEqual([ids[2]]);
    expect((await get(`/orders?merchantId=${crypto.randomUUID()}`)).body.items).toEqual([]);
  });

  it('filters by a creation range, from inclusive to exclusive', async () => {
    const { rows } = await sql('SELECT id, created_at FROM orders WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    const created = new Map(rows.map((r: any) => [r.id, (r.created_at as Date).toISOString()]));
    const from = encodeURIComponent(created.get(ids[1])!);
    const to = encodeURIComponent(created.get(ids[2])!);
    expect(idsOf(await list(`createdFrom=${from}`))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await list(`createdTo=${to}`))).toEqual([ids[1], ids[0]]);
    expect(idsOf(await list(`createdFrom=${from}&createdTo=${to}`))).toEqual([ids[1]]);
  });

  it('pages with a cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...idsOf(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it.each(['status=lost', 'createdFrom=yesterday', 'merchantId=42', 'limit=0', 'cursor=x'])(
    'refuses the filter %s with 400',
    async (query) => {
      const res = await get(`/orders?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    },
  );
});

describe('GET /admin/drivers', () => {
  it('lists drivers with position, load, rating and acceptance rate, a page at a time', async () => {
    const busy = await driverWith('online', 5, 4);
    await sql('UPDATE drivers SET active_orders = 2, rating = 4.5 WHERE id = $1', [busy.id]);
    const first = await get('/drivers?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([
      expect.objectContaining({
        id: busy.id,
        email: busy.email,
        status: 'online',
        lat: 49.41,
        lng: 8.69,
        locationUpdatedAt: expect.any(String),
        activeOrders: 2,
        rating: 4.5,
        acceptanceRate: 0.8,
      }),
    ]);
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/drivers?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const { rows } = await sql('SELECT count(*)::int AS n FROM drivers');
    expect(new Set(all.map((d) => d.id)).size).toBe(rows[0]!.n);

    const offline = await driverWith('offline', 0, 0);
    const found = (await get('/drivers?status=offline&limit=200')).body.items;
    expect(found.every((d: any) => d.status === 'offline')).toBe(true);
    expect(found.find((d: any) => d.id === offline.id)).toMatchObject({ acceptanceRate: null });
  });
});

describe('POST /admin/orders/:id/cancel', () => {
  const cancel = (id: string, body?: unknown) =>
    api('POST', `/api/v1/admin/orders/${id}/cancel`, { token: admin.token, body });

  it('cancels a stuck order, records who did it and tells the customer', async () => {
    const id = await orderAt('confirmed', {}, ', needs_attention_at = now()');
    const res = await cancel(id, { reason: 'no driver found' });
    expect(res.status).toBe(200);
    expect(res.body.order).toMatchObject({ status: 'cancelled', cancelReason: 'no driver found' });
    const audit = await sql(
      `SELECT actor_id, actor_role FROM order_events WHERE order_id = $1 AND to_status = 'cancelled'`,
      [id],
    );
    expect(audit.rows).toEqual([{ actor_id: admin.id, actor_role: 'admin' }]);
    const inbox = await api('GET', '/api/v1/notifications', { token: customer.token });
    expect(inbox.body.items[0]).toMatchObject({ orderId: id, type: 'order.cancelled' });
    expect((await cancel(id)).status).toBe(409);
  });

  it('answers 409 after pickup and 404 for an unknown order', async () => {
    const id = await orderAt('picked_up', {});
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'ORDER_NOT_CANCELLABLE',
      details: { currentStatus: 'picked_up' },
    });
    expect((await cancel(crypto.randomUUID())).status).toBe(404);
  });

  it('is closed to every other role', async () => {
    const id = await orderAt('confirmed', {});
    const driver = await registerUser(api, 'driver');
    for (const user of [customer, driver, store.owner]) {
      const token = user.token;
      expect((await api('POST', `/api/v1/admin/orders/${id}/cancel`, { token })).status).toBe(403);
      expect((await api('GET', '/api/v1/admin/stats', { token })).status).toBe(403);
    }
  });
});
