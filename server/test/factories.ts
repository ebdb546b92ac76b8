import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '@delivery/contracts';
import type { Api } from './http.ts';
import type { TestPlatform } from './platform.ts';

/** Factories make exactly the data a test needs, creating missing parents themselves. */
export const HEIDELBERG = { lat: 49.4093, lng: 8.6937 };
export const NEARBY_ADDRESS = {
  deliveryAddress: 'Hauptstraße 120, Heidelberg',
  deliveryLat: 49.4122,
  deliveryLng: 8.7065,
};

export interface TestUser {
  id: string;
  email: string;
  token: string;
  role: Role;
}

const uniqueEmail = (role: string) => `${role}-${randomBytes(5).toString('hex')}@test.local`;

export async function registerUser(
  api: Api,
  role: 'customer' | 'driver' | 'merchant',
): Promise<TestUser> {
  const email = uniqueEmail(role);
  const res = await api('POST', '/api/v1/auth/register', {
    body: {
      email,
      password: 'password123',
      name: `Test ${role}`,
      role,
      ...(role === 'driver' ? { vehicleType: 'bicycle' } : {}),
    },
  });
  if (res.status !== 201)
    throw new Error(`register ${role} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, token: res.body.token, role };
}

export async function createAdmin(tp: TestPlatform, api: Api): Promise<TestUser> {
  const email = uniqueEmail('admin');
  const hash = await tp.services.hasher.hash('password123');
  const { rows } = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, 'Test admin', 'admin') RETURNING id`,
    [email, hash],
  );
  const res = await api('POST', '/api/v1/auth/login', { body: { email, password: 'password123' } });
  return { id: rows[0]!.id, email, token: res.body.token, role: 'admin' };
}

export interface TestStore {
  id: string;
  owner: TestUser;
  items: Array<{ id: string; name: string; priceCents: number }>;
}

export interface StoreOptions {
  isOpen?: boolean;
  deliveryRadiusKm?: number;
  prices?: number[];
  unavailable?: number[];
}

export async function createStore(
  tp: TestPlatform,
  api: Api,
  opts: StoreOptions = {},
): Promise<TestStore> {
  const owner = await registerUser(api, 'merchant');
  const { rows } = await tp.infra.db.query<{ id: string }>(
    `INSERT INTO merchants (owner_id, name, address, lat, lng, category, delivery_radius_km, is_open)
     VALUES ($1, $2, 'Bismarckplatz 1, Heidelberg', $3, $4, 'restaurant', $5, $6) RETURNING id`,
    [
      owner.id,
      `Store ${randomUUID().slice(0, 6)}`,
      HEIDELBERG.lat,
      HEIDELBERG.lng,
      opts.deliveryRadiusKm ?? 5,
      opts.isOpen ?? true,
    ],
  );
  const id = rows[0]!.id;
  const prices = opts.prices ?? [850, 1200, 300];
  const items = [];
  for (const [i, priceCents] of prices.entries()) {
    const r = await tp.infra.db.query<{ id: string; name: string }>(
      `INSERT INTO menu_items (merchant_id, name, price_cents, is_available) VALUES ($1, $2, $3, $4) RETURNING id, name`,
      [id, `Item ${i + 1}`, priceCents, !(opts.unavailable ?? []).includes(i)],
    );
    items.push({ id: r.rows[0]!.id, name: r.rows[0]!.name, priceCents });
  }
  owner.token = (
    await api('POST', '/api/v1/auth/login', {
      body: { email: owner.email, password: 'password123' },
    })
  ).body.token;
  return { id, owner, items };
}

export function orderBody(store: TestStore, overrides: Record<string, unknown> = {}) {
  return {
    merchantId: store.id,
    items: [{ menuItemId: store.items[0]!.id, quantity: 2 }],
    ...NEARBY_ADDRESS,
    tipCents: 100,
    ...overrides,
  };
}

export const newKey = () => `test-${randomUUID()}`;

export async function placeOrder(
  api: Api,
  customer: TestUser,
  store: TestStore,
  overrides: Record<string, unknown> = {},
) {
  const res = await api('POST', '/api/v1/orders', {
    token: customer.token,
    headers: { 'x-idempotency-key': newKey() },
    body: orderBody(store, overrides),
  });
  if (res.status !== 201)
    throw new Error(`order failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.order as { id: string; status: string; totalCents: number };
}
