import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PasswordHasher } from '../auth/passwords.ts';
import { haversineKm } from '../platform/geo.ts';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { createPgliteDb } from './pglite.ts';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@delivery/contracts';
import { DEMO_CUSTOMER_ADDRESSES, DEMO_MERCHANTS, isDatabaseEmpty, seedDemoData } from './seed.ts';

describe('seedDemoData', () => {
  let db: Db;
  const hasher = new PasswordHasher(1024);
  let emptyBefore: boolean;
  let runs: Array<{ created: boolean }>;

  beforeAll(async () => {
    db = await createPgliteDb({
      onAfterCommitError: (e) => {
        throw e;
      },
    });
    await migrate(db);
    emptyBefore = await isDatabaseEmpty(db);
    runs = [await seedDemoData(db, hasher), await seedDemoData(db, hasher)];
  });

  afterAll(async () => {
    await db.close();
  });

  it('creates data on the first run only', () => {
    expect(runs).toEqual([{ created: true }, { created: false }]);
  });

  it('is reported by isDatabaseEmpty', async () => {
    expect(emptyBefore).toBe(true);
    expect(await isDatabaseEmpty(db)).toBe(false);
  });

  it('creates exactly one copy of each demo account with its role', async () => {
    const { rows } = await db.query<{ email: string; role: string }>(
      'SELECT email, role FROM users ORDER BY email',
    );
    expect(rows).toHaveLength(9);
    const byRole = (role: string) => rows.filter((r) => r.role === role).map((r) => r.email);
    expect(byRole('admin')).toEqual(['admin@demo.local']);
    expect(byRole('customer')).toEqual(['customer1@demo.local', 'customer2@demo.local']);
    expect(byRole('driver')).toEqual([
      'driver1@demo.local',
      'driver2@demo.local',
      'driver3@demo.local',
    ]);
    expect(byRole('merchant')).toEqual([
      'merchant1@demo.local',
      'merchant2@demo.local',
      'merchant3@demo.local',
    ]);
    expect(rows).toEqual(
      expect.arrayContaining(DEMO_ACCOUNTS.map((a) => ({ email: a.email, role: a.role }))),
    );
  });

  it('creates one offline driver profile per driver with vehicles bicycle, scooter, car', async () => {
    const { rows } = await db.query<{ email: string; vehicle_type: string; status: string }>(
      `SELECT u.email, d.vehicle_type, d.status FROM drivers d JOIN users u ON u.id = d.id
       ORDER BY u.email`,
    );
    expect(rows.map((r) => r.vehicle_type)).toEqual(['bicycle', 'scooter', 'car']);
    expect(rows.every((r) => r.status === 'offline')).toBe(true);
  });

  it('gives merchant N to merchantN@demo.local, each with a menu', async () => {
    const { rows } = await db.query<{ email: string; name: string; items: number }>(
      `SELECT u.email, m.name, (SELECT count(*)::int FROM menu_items i WHERE i.merchant_id = m.id) AS items
       FROM merchants m JOIN users u ON u.id = m.owner_id ORDER BY u.email`,
    );
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => {
      expect(row.email).toBe(`merchant${i + 1}@demo.local`);
      expect(row.name).toBe(DEMO_MERCHANTS[i]?.name);
      expect(row.items).toBeGreaterThanOrEqual(5);
    });
  });

  it('seeds what the sign-in page says of each login: name, store, vehicle', async () => {
    const { rows } = await db.query<{ email: string; name: string; label: string | null }>(
      `SELECT u.email, u.name, COALESCE(m.name, d.vehicle_type) AS label
       FROM users u LEFT JOIN merchants m ON m.owner_id = u.id LEFT JOIN drivers d ON d.id = u.id`,
    );
    const seeded = new Map(rows.map((r) => [r.email, r]));
    for (const account of DEMO_ACCOUNTS) {
      expect(seeded.get(account.email)).toEqual({
        email: account.email,
        name: account.name,
        label: account.label ?? null,
      });
    }
  });

  it('marks exactly one menu item unavailable, at merchant 3', async () => {
    const { rows } = await db.query<{ email: string }>(
      `SELECT u.email FROM menu_items i JOIN merchants m ON m.id = i.merchant_id
       JOIN users u ON u.id = m.owner_id WHERE NOT i.is_available`,
    );
    expect(rows).toEqual([{ email: 'merchant3@demo.local' }]);
  });

  it('stores a hash the demo password verifies against', async () => {
    const { rows } = await db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE email = $1',
      ['customer1@demo.local'],
    );
    const hash = rows[0]?.password_hash ?? null;
    expect(await hasher.verify(hash, DEMO_PASSWORD)).toBe(true);
    expect(await hasher.verify(hash, 'wrong-password')).toBe(false);
  });

  it('places the customer addresses within 3 km of every merchant', () => {
    for (const a of DEMO_CUSTOMER_ADDRESSES) {
      for (const m of DEMO_MERCHANTS) expect(haversineKm(a, m)).toBeLessThan(3);
    }
  });
});
