import type { Role } from '@delivery/contracts';
import {
  createAdmin,
  createStore,
  HEIDELBERG,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from '../factories.ts';
import type { Api } from '../http.ts';
import type { TestPlatform } from '../platform.ts';

/** Tables whose content a rejected request must leave exactly as it was. */
export const WATCHED_TABLES = [
  'users',
  'sessions',
  'merchants',
  'menu_items',
  'drivers',
  'orders',
  'order_items',
  'order_events',
  'idempotency_keys',
  'ratings',
  'notifications',
  'driver_offers',
] as const;

/** A digest of every watched table's rows: equal digests mean nothing was written. */
export async function fingerprint(tp: TestPlatform): Promise<Record<string, string>> {
  const columns = WATCHED_TABLES.map(
    (t) =>
      `(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ${t} t) AS ${t}`,
  );
  const { rows } = await tp.infra.db.query<Record<string, string>>(`SELECT ${columns.join(', ')}`);
  return rows[0]!;
}

export interface FuzzWorld {
  users: Record<Role, TestUser>;
  store: TestStore;
  otherStore: TestStore;
  /** Ids that exist, so generated uuids sometimes reach past the "not found" checks. */
  ids: string[];
}

/** A small world with something in every state, so generated requests can reach deep code. */
export async function buildWorld(tp: TestPlatform, api: Api): Promise<FuzzWorld> {
  const store = await createStore(tp, api);
  const otherStore = await createStore(tp, api);
  const users = {
    customer: await registerUser(api, 'customer'),
    driver: await registerUser(api, 'driver'),
    merchant: store.owner,
    admin: await createAdmin(tp, api),
  } satisfies Record<Role, TestUser>;
  await api('POST', '/api/v1/driver/go-online', { token: users.driver.token, body: HEIDELBERG });

  const orders = [];
  for (let i = 0; i < 6; i++) orders.push(await placeOrder(api, users.customer, store));
  const [, confirmed, preparing, ready, pickedUp, delivered] = orders.map((o) => o.id);
  const set = (id: string | undefined, status: string, driver: string | null) =>
    tp.infra.db.query(
      `UPDATE orders SET status = $2, driver_id = $3,
         delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1`,
      [id, status, driver],
    );
  await set(confirmed, 'confirmed', null);
  await set(preparing, 'preparing', users.driver.id);
  await set(ready, 'ready_for_pickup', users.driver.id);
  await set(pickedUp, 'picked_up', users.driver.id);
  await set(delivered, 'delivered', users.driver.id);
  const offer = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO driver_offers (order_id, driver_id, score, distance_km, earnings_cents, expires_at)
     VALUES ($1, $2, 1, 1.2, 450, now() + interval '1 hour') RETURNING id`,
    [confirmed, users.driver.id],
  );
  const notifications = await tp.infra.db.query<{ id: string }>(
    'SELECT id FROM notifications LIMIT 5',
  );
  const ids = [
    store.id,
    otherStore.id,
    ...store.items.map((i) => i.id),
    ...otherStore.items.map((i) => i.id),
    ...orders.map((o) => o.id),
    offer.rows[0]!.id,
    ...notifications.rows.map((n) => n.id),
    ...Object.values(users).map((u) => u.id),
  ];
  return { users, store, otherStore, ids };
}
