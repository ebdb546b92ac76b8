import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, registerUser, type TestStore } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let api: Api;
let near: string;
let far: string;

async function merchantAt(name: string, lat: number, lng: number, category: string) {
  const { rows } = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO merchants (name, address, lat, lng, category) VALUES ($1, 'x', $2, $3, $4) RETURNING id`,
    [name, lat, lng, category],
  );
  await tp.infra.db.query(
    `INSERT INTO menu_items (merchant_id, name, price_cents) VALUES ($1, 'Falafel wrap', 650)`,
    [rows[0]!.id],
  );
  return rows[0]!.id;
}

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  near = await merchantAt('Near Bakery', 49.4095, 8.694, 'bakery');
  far = await merchantAt('Far Grocer', 49.45, 8.75, 'grocery');
});
afterAll(() => tp?.stop());

describe('browsing merchants', () => {
  it('lists merchants nearest first with their distance', async () => {
    const res = await api('GET', '/api/v1/merchants?lat=49.4093&lng=8.6937');
    expect(res.status).toBe(200);
    const ids = res.body.items.map((m: { id: string }) => m.id);
    expect(ids.indexOf(near)).toBeLessThan(ids.indexOf(far));
    expect(res.body.items[0].distanceKm).toBeLessThan(0.1);
    expect(res.body.items[1].distanceKm).toBeGreaterThan(5);
  });

  it('filters by radius, category and text', async () => {
    const radius = await api('GET', '/api/v1/merchants?lat=49.4093&lng=8.6937&radiusKm=2');
    expect(radius.body.items.map((m: { id: string }) => m.id)).toEqual([near]);
    const category = await api('GET', '/api/v1/merchants?category=grocery');
    expect(category.body.items.map((m: { id: string }) => m.id)).toEqual([far]);
    const text = await api('GET', '/api/v1/merchants?q=bakery');
    expect(text.body.items.map((m: { id: string }) => m.id)).toEqual([near]);
    const byDish = await api('GET', '/api/v1/merchants?q=falafel');
    expect(byDish.body.items).toHaveLength(2);
  });

  it('treats % and _ in the search text literally', async () => {
    const res = await api('GET', '/api/v1/merchants?q=%25');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it.each([
    ['lat without lng', '?lat=49.4'],
    ['latitude out of range', '?lat=91&lng=8'],
    ['a radius that is not a number', '?lat=49&lng=8&radiusKm=abc'],
    ['a negative radius', '?lat=49&lng=8&radiusKm=-1'],
  ])('answers %s with 400', async (_name, query) => {
    const res = await api('GET', `/api/v1/merchants${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('shows a merchant and its menu, and 404 for an unknown one', async () => {
    const detail = await api('GET', `/api/v1/merchants/${near}`);
    expect(detail.body.merchant.name).toBe('Near Bakery');
    const menu = await api('GET', `/api/v1/merchants/${near}/menu`);
    expect(menu.body.items).toEqual([
      expect.objectContaining({ name: 'Falafel wrap', priceCents: 650, isAvailable: true }),
    ]);
    expect((await api('GET', `/api/v1/merchants/${crypto.randomUUID()}/menu`)).status).toBe(404);
    expect((await api('GET', '/api/v1/merchants/not-a-uuid')).status).toBe(400);
  });
});

describe("a merchant's own store", () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createStore(tp, api);
  });

  it('opens, closes and changes prep time and radius', async () => {
    const res = await api('PATCH', '/api/v1/merchant/store', {
      token: store.owner.token,
      body: { isOpen: false, avgPrepTimeMinutes: 25, deliveryRadiusKm: 3.5 },
    });
    expect(res.status).toBe(200);
    expect(res.body.merchant).toMatchObject({
      isOpen: false,
      avgPrepTimeMinutes: 25,
      deliveryRadiusKm: 3.5,
    });
    expect((await api('GET', `/api/v1/merchants/${store.id}`)).body.merchant.isOpen).toBe(false);
  });

  it('refuses an empty or invalid patch with 400', async () => {
    for (const body of [{}, { avgPrepTimeMinutes: 0 }, { deliveryRadiusKm: -1 }, { name: 'x' }]) {
      const res = await api('PATCH', '/api/v1/merchant/store', { token: store.owner.token, body });
      expect(res.status).toBe(400);
    }
  });

  it('adds, edits and removes its own menu items', async () => {
    const created = await api('POST', '/api/v1/merchant/menu-items', {
      token: store.owner.token,
      body: { name: 'Pretzel', priceCents: 180, category: 'Bread' },
    });
    expect(created.status).toBe(201);
    const id = created.body.item.id;
    const edited = await api('PATCH', `/api/v1/merchant/menu-items/${id}`, {
      token: store.owner.token,
      body: { priceCents: 200, isAvailable: false },
    });
    expect(edited.body.item).toMatchObject({ priceCents: 200, isAvailable: false });
    expect(
      (await api('DELETE', `/api/v1/merchant/menu-items/${id}`, { token: store.owner.token }))
        .status,
    ).toBe(204);
    const menu = await api('GET', `/api/v1/merchants/${store.id}/menu`);
    expect(menu.body.items.map((i: { id: string }) => i.id)).not.toContain(id);
  });

  it("cannot touch another store's menu item (404)", async () => {
    const other = await createStore(tp, api);
    const target = other.items[0]!.id;
    const res = await api('PATCH', `/api/v1/merchant/menu-items/${target}`, {
      token: store.owner.token,
      body: { priceCents: 1 },
    });
    expect(res.status).toBe(404);
    expect(
      (await api('DELETE', `/api/v1/merchant/menu-items/${target}`, { token: store.owner.token }))
        .status,
    ).toBe(404);
    const menu = await api('GET', `/api/v1/merchants/${other.id}/menu`);
    expect(menu.body.items.find((i: { id: string }) => i.id === target).priceCents).toBe(
      other.items[0]!.priceCents,
    );
  });

  it('tells a merchant account without a store that it has none (404)', async () => {
    const lonely = await registerUser(api, 'merchant');
    const res = await api('GET', '/api/v1/merchant/store', { token: lonely.token });
    expect(res.status).toBe(404);
  });
});
