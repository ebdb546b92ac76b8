/**
 * Bulk accounts for simulated fleets: thousands of drivers, customers and stores with their
 * sessions, in a few statements, without hashing a password per account. Only addresses under
 * the reserved domain `@sim.local` are ever created. Used by `fleet.ts` (see
 * docs/benchmarks.md, "Provisioning a simulated fleet").
 */
import type { Role } from '@delivery/contracts';
import { hashToken, newSessionToken } from '../auth/tokens.ts';
import type { Db, Queryable } from '../db/db.ts';

export const SIM_DOMAIN = 'sim.local';
export const PREFIX_PATTERN = /^[a-z0-9][a-z0-9-]{0,23}$/;

export type VehicleType = 'bicycle' | 'scooter' | 'car';

export interface ProvisionOptions {
  prefix: string;
  drivers: number;
  customers: number;
  merchants: number;
  /** Where the simulated stores are spread (uniformly over the disc). */
  area: { lat: number; lng: number; radiusKm: number };
  /** One hash shared by every account created (computed once by the caller). */
  passwordHash: string;
  sessionTtlMs: number;
  now: number;
}

export interface ProvisionedAccount {
  id: string;
  email: string;
  token: string;
}

export interface FleetFile {
  version: 1;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  drivers: Array<ProvisionedAccount & { vehicleType: VehicleType }>;
  customers: ProvisionedAccount[];
  merchants: Array<ProvisionedAccount & { merchantId: string }>;
}

const BATCH = 2_000;

/** Vehicle of driver n: 40 % bicycles, 35 % scooters, 25 % cars, deterministic per n. */
export function vehicleOf(n: number): VehicleType {
  const x = n % 20;
  return x < 8 ? 'bicycle' : x < 15 ? 'scooter' : 'car';
}

export const emailOf = (prefix: string, kind: string, n: number) =>
  `${prefix}-${kind}-${n}@${SIM_DOMAIN}`;

/** A deterministic spread of stores over the area (golden-angle spiral). */
export function storePosition(area: ProvisionOptions['area'], n: number, total: number) {
  const r = area.radiusKm * 0.85 * Math.sqrt((n - 0.5) / Math.max(1, total));
  const angle = n * 2.399963229728653;
  const dLat = (r / 111.32) * Math.cos(angle);
  const dLng = (r / (111.32 * Math.cos((area.lat * Math.PI) / 180))) * Math.sin(angle);
  return { lat: area.lat + dLat, lng: area.lng + dLng };
}

function chunks<T>(items: T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Inserts the users that are missing and returns every id by email (old and new). */
async function ensureUsers(
  db: Queryable,
  rows: Array<{ email: string; name: string; role: Role }>,
  passwordHash: string,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const part of chunks(rows)) {
    await db.query(
      `INSERT INTO users (email, password_hash, name, role)
       SELECT e, $2, n, r FROM unnest($1::text[], $3::text[], $4::text[]) AS u(e, n, r)
       ON CONFLICT DO NOTHING`,
      [part.map((r) => r.email), passwordHash, part.map((r) => r.name), part.map((r) => r.role)],
    );
    const { rows: found } = await db.query<{ id: string; email: string; role: string }>(
      `SELECT id, email, role FROM users WHERE lower(email) = ANY($1::text[])`,
      [part.map((r) => r.email.toLowerCase())],
    );
    const wanted = new Map(part.map((r) => [r.email.toLowerCase(), r.role]));
    for (const f of found) {
      if (wanted.get(f.email.toLowerCase()) !== f.role) {
        throw new Error(`${f.email} exists with the role ${f.role}; choose another --prefix`);
      }
      ids.set(f.email.toLowerCase(), f.id);
    }
  }
  return ids;
}

async function openSessions(
  db: Queryable,
  users: Array<{ id: string; role: Role }>,
  opts: ProvisionOptions,
): Promise<string[]> {
  const tokens = users.map(() => newSessionToken());
  const created = new Date(opts.now);
  const expires = new Date(opts.now + opts.sessionTtlMs);
  for (let i = 0; i < users.length; i += BATCH) {
    const part = users.slice(i, i + BATCH);
    await db.query(
      `INSERT INTO sessions (token_hash, user_id, role, created_at, expires_at)
       SELECT h, u, r, $4, $5 FROM unnest($1::text[], $2::uuid[], $3::text[]) AS s(h, u, r)`,
      [
        tokens.slice(i, i + BATCH).map(hashToken),
        part.map((u) => u.id),
        part.map((u) => u.role),
        created,
        expires,
      ],
    );
  }
  return tokens;
}

const MENU = [
  { name: 'House Special', priceCents: 1290, category: 'Mains' },
  { name: 'Daily Soup', priceCents: 690, category: 'Starters' },
  { name: 'Lemonade', priceCents: 350, category: 'Drinks' },
];

/**
 * Creates (or reuses, when run again with the same prefix) `<prefix>-driver-<n>@sim.local`,
 * `<prefix>-customer-<n>@sim.local` and `<prefix>-merchant-<n>@sim.local` accounts with a
 * driver profile or a store with a small menu, and opens a fresh session for each.
 */
export async function provisionFleet(db: Db, opts: ProvisionOptions): Promise<FleetFile> {
  if (!PREFIX_PATTERN.test(opts.prefix)) {
    throw new Error('--prefix: lower-case letters, digits and dashes, at most 24');
  }
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const driverRows = range(opts.drivers).map((n) => ({
    n,
    email: emailOf(opts.prefix, 'driver', n),
    name: `Sim Driver ${n}`,
    role: 'driver' as const,
  }));
  const customerRows = range(opts.customers).map((n) => ({
    n,
    email: emailOf(opts.prefix, 'customer', n),
    name: `Sim Customer ${n}`,
    role: 'customer' as const,
  }));
  const merchantRows = range(opts.merchants).map((n) => ({
    n,
    email: emailOf(opts.prefix, 'merchant', n),
    name: `Sim Owner ${n}`,
    role: 'merchant' as const,
  }));
  for (const r of [...driverRows, ...customerRows, ...merchantRows]) {
    if (!r.email.endsWith(`@${SIM_DOMAIN}`)) throw new Error(`refusing to create ${r.email}`);
  }

  const fleet = await db.transaction(async (tx) => {
    const ids = await ensureUsers(
      tx,
      [...driverRows, ...customerRows, ...merchantRows],
      opts.passwordHash,
    );
    const id = (email: string) => ids.get(email.toLowerCase())!;

    for (const part of chunks(driverRows)) {
      await tx.query(
        `INSERT INTO drivers (id, vehicle_type)
         SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT (id) DO NOTHING`,
        [part.map((d) => id(d.email)), part.map((d) => vehicleOf(d.n))],
      );
    }
    const { rows: vehicles } = await tx.query<{ id: string; vehicle_type: VehicleType }>(
      `SELECT id, vehicle_type FROM drivers WHERE id = ANY($1::uuid[])`,
      [driverRows.map((d) => id(d.email))],
    );
    const vehicleById = new Map(vehicles.map((v) => [v.id, v.vehicle_type]));

    const storeIds = new Map<string, string>();
    for (const part of chunks(merchantRows)) {
      const pos = part.map((m) => storePosition(opts.area, m.n, opts.merchants));
      await tx.query(
        `INSERT INTO merchants (owner_id, name, description, address, lat, lng, category,
           avg_prep_time_minutes, delivery_radius_km, is_open)
         SELECT o, n, 'A simulated store', a, la, ln, 'restaurant', p, 5, true
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::int[])
           AS m(o, n, a, la, ln, p)
         ON CONFLICT (owner_id) DO NOTHING`,
        [
          part.map((m) => id(m.email)),
          part.map((m) => `Sim Store ${opts.prefix} ${m.n}`),
          part.map((m) => `Simulated Street ${m.n}`),
          pos.map((p) => p.lat),
          pos.map((p) => p.lng),
          part.map((m) => 8 + (m.n % 13)),
        ],
      );
      const { rows } = await tx.query<{ id: string; owner_id: string }>(
        `SELECT id, owner_id FROM merchants WHERE owner_id = ANY($1::uuid[])`,
        [part.map((m) => id(m.email))],
      );
      for (const r of rows) storeIds.set(r.owner_id, r.id);
      const stores = rows.map((r) => r.id);
      await tx.query(
        `INSERT INTO menu_items (merchant_id, name, price_cents, category)
         SELECT s, i.name, i.price, i.category
         FROM unnest($1::uuid[]) AS s
         CROSS JOIN unnest($2::text[], $3::int[], $4::text[]) AS i(name, price, category)
         WHERE NOT EXISTS (SELECT 1 FROM menu_items m WHERE m.merchant_id = s AND m.name = i.name)`,
        [
          stores,
          MENU.map((m) => m.name),
          MENU.map((m) => m.priceCents),
          MENU.map((m) => m.category),
        ],
      );
    }

    const everyone = [
      ...driverRows.map((r) => ({ id: id(r.email), role: r.role })),
      ...customerRows.map((r) => ({ id: id(r.email), role: r.role })),
      ...merchantRows.map((r) => ({ id: id(r.email), role: r.role })),
    ];
    const tokens = await openSessions(tx, everyone, opts);
    let t = 0;
    const next = () => tokens[t++]!;
    return {
      version: 1 as const,
      prefix: opts.prefix,
      createdAt: new Date(opts.now).toISOString(),
      expiresAt: new Date(opts.now + opts.sessionTtlMs).toISOString(),
      drivers: driverRows.map((r) => ({
        id: id(r.email),
        email: r.email,
        token: next(),
        vehicleType: vehicleById.get(id(r.email)) ?? vehicleOf(r.n),
      })),
      customers: customerRows.map((r) => ({ id: id(r.email), email: r.email, token: next() })),
      merchants: merchantRows.map((r) => ({
        id: id(r.email),
        email: r.email,
        token: next(),
        merchantId: storeIds.get(id(r.email))!,
      })),
    };
  });
  // Thousands of rows arrived at once: refresh the planner's statistics now rather than when
  // autovacuum gets to it, or the first minutes of a run are planned for nearly empty tables.
  await db.query('ANALYZE users, drivers, merchants, menu_items, sessions');
  return fleet;
}
