import type { Role } from '@delivery/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../src/app.ts';
import {
  createAdmin,
  createStore,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { fingerprint } from './fuzz/fixtures.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * "Not yours" is "not found": for every route with an `:id`, a signed-in user whose role the
 * route allows, asking for someone else's resource, gets 404 NOT_FOUND, learns nothing of it
 * and changes nothing. Generated from the route table: a new `:id` route fails the coverage
 * test until it says whose resource the id names.
 */
let tp: TestPlatform;
let api: Api;

interface Party {
  customer: TestUser;
  driver: TestUser;
  store: TestStore;
}
let owner: Party;
let intruder: Party;
let admin: TestUser;

const SECRET = 'secret-notes-7f3a';

beforeAll(async () => {
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
  api = apiClient(tp.baseUrl);
  const party = async (): Promise<Party> => ({
    customer: await registerUser(api, 'customer'),
    driver: await registerUser(api, 'driver'),
    store: await createStore(tp, api),
  });
  owner = await party();
  intruder = await party();
  admin = await createAdmin(tp, api);
});
afterAll(() => tp?.stop());

/** One of the owner's orders, in `status`, carried by the owner's driver when it has one. */
async function ownersOrder(status: string, withDriver: boolean) {
  const order = await placeOrder(api, owner.customer, owner.store, { notes: SECRET });
  await tp.infra.db.query(
    `UPDATE orders SET status = $2, driver_id = $3,
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1`,
    [order.id, status, withDriver ? owner.driver.id : null],
  );
  return order.id;
}

async function ownersOffer() {
  const orderId = await ownersOrder('confirmed', false);
  // A driver has one pending offer at most: the previous case's goes first.
  await tp.infra.db.query(
    `UPDATE driver_offers SET status = 'cancelled' WHERE driver_id = $1 AND status = 'pending'`,
    [owner.driver.id],
  );
  const { rows } = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO driver_offers (order_id, driver_id, score, distance_km, earnings_cents, expires_at)
     VALUES ($1, $2, 1, 1.5, 400, now() + interval '1 hour') RETURNING id`,
    [orderId, owner.driver.id],
  );
  return rows[0]!.id;
}

async function ownersRatedOrder() {
  const id = await ownersOrder('delivered', true);
  await tp.infra.db.query(
    `INSERT INTO ratings (order_id, rater_id, ratee_kind, ratee_id, stars, comment)
     VALUES ($1, $2, 'driver', $3, 5, $4)`,
    [id, owner.customer.id, owner.driver.id, SECRET],
  );
  return id;
}

async function ownersNotification() {
  const { rows } = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO notifications (user_id, type, title, body) VALUES ($1, 'test', $2, $2) RETURNING id`,
    [owner.customer.id, SECRET],
  );
  return rows[0]!.id;
}

type Resource = () => Promise<string>;
/** Whose resource each `:id` names, or why the route has no "someone else's" case. */
const RESOURCES: Record<string, Resource | { exempt: string }> = {
  'GET /api/v1/merchants/:id': { exempt: 'the public catalog: every store is everyone’s' },
  'GET /api/v1/merchants/:id/menu': { exempt: 'the public catalog' },
  'PATCH /api/v1/merchant/menu-items/:id': async () => owner.store.items[0]!.id,
  'DELETE /api/v1/merchant/menu-items/:id': async () => owner.store.items[1]!.id,
  'GET /api/v1/orders/:id': () => ownersOrder('preparing', true),
  'POST /api/v1/orders/:id/cancel': () => ownersOrder('pending', false),
  'POST /api/v1/merchant/orders/:id/confirm': () => ownersOrder('pending', false),
  'POST /api/v1/merchant/orders/:id/reject': () => ownersOrder('pending', false),
  'POST /api/v1/merchant/orders/:id/preparing': () => ownersOrder('confirmed', false),
  'POST /api/v1/merchant/orders/:id/ready': () => ownersOrder('preparing', false),
  'POST /api/v1/orders/:id/rating': () => ownersOrder('delivered', true),
  'POST /api/v1/driver/orders/:id/rating': () => ownersOrder('delivered', true),
  'GET /api/v1/orders/:id/ratings': ownersRatedOrder,
  'POST /api/v1/notifications/:id/read': ownersNotification,
  'POST /api/v1/admin/orders/:id/cancel': { exempt: 'admins act on every order' },
  'POST /api/v1/admin/orders/:id/reassign': { exempt: 'admins act on every order' },
  'POST /api/v1/driver/offers/:id/accept': ownersOffer,
  'POST /api/v1/driver/offers/:id/reject': ownersOffer,
  'POST /api/v1/driver/orders/:id/picked-up': () => ownersOrder('ready_for_pickup', true),
  'POST /api/v1/driver/orders/:id/delivered': () => ownersOrder('picked_up', true),
};

const BODIES: Record<string, unknown> = {
  'PATCH /api/v1/merchant/menu-items/:id': { name: 'Taken over' },
  'POST /api/v1/orders/:id/rating': { driverStars: 1, comment: 'intruder' },
  'POST /api/v1/driver/orders/:id/rating': { customerStars: 1 },
};

const idRoutes = () =>
  tp.app.routeTable.filter((r) => r.url.startsWith('/api/') && /:id/.test(r.url));
const keyOf = (r: RouteEntry) => `${r.method} ${r.url}`;

/** The intruders: everyone but the owner's side whose role the route allows (admins aside). */
function intrudersFor(rule: RouteEntry['auth']): TestUser[] {
  const byRole: Record<Exclude<Role, 'admin'>, TestUser> = {
    customer: intruder.customer,
    driver: intruder.driver,
    merchant: intruder.store.owner,
  };
  return Object.entries(byRole)
    .filter(([role]) => rule === 'any' || (Array.isArray(rule) && rule.includes(role as Role)))
    .map(([, user]) => user);
}

describe("another user's resource", () => {
  it('is stated for every API route with an :id', () => {
    expect(idRoutes().map(keyOf).sort()).toEqual(Object.keys(RESOURCES).sort());
  });

  const cases = Object.entries(RESOURCES).filter(
    (entry): entry is [string, Resource] => typeof entry[1] === 'function',
  );
  it.each(cases)('%s answers 404, shows nothing and changes nothing', async (key, resource) => {
    const route = idRoutes().find((r) => keyOf(r) === key)!;
    const intruders = intrudersFor(route.auth);
    expect(intruders.length).toBeGreaterThan(0);
    for (const user of intruders) {
      const id = await resource();
      const before = await fingerprint(tp);
      const res = await api(route.method, route.url.replace(':id', id), {
        token: user.token,
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: BODIES[key] ?? {} }),
      });
      expect(res.status, `${user.role}: ${JSON.stringify(res.body)}`).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      const text = JSON.stringify(res.body);
      for (const secret of [id, SECRET, owner.customer.id, owner.driver.id, owner.store.id]) {
        expect(text).not.toContain(secret);
      }
      expect(await fingerprint(tp)).toEqual(before);
    }
  });

  it('is still reachable by its owner and by admins (the 404s above are not a broken route)', async () => {
    const id = await ownersOrder('preparing', true);
    for (const user of [owner.customer, owner.driver, owner.store.owner, admin]) {
      const res = await api('GET', `/api/v1/orders/${id}`, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body.order.notes).toBe(SECRET);
    }
  });
});
