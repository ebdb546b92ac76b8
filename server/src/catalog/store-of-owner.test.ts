import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { createPgliteDb } from '../db/pglite.ts';
import { ManualClock } from '../platform/clock.ts';
import { createStoreOfOwner } from './store-of-owner.ts';

describe('createStoreOfOwner', () => {
  let db: Db;
  const clock = new ManualClock(Date.parse('2026-11-27T12:00:00Z'));

  const user = async (email: string) =>
    (
      await db.query<{ id: string }>(
        `INSERT INTO users (email, password_hash, name, role)
         VALUES ($1, 'x', 'Owner', 'merchant') RETURNING id`,
        [email],
      )
    ).rows[0]!.id;
  const store = async (ownerId: string) =>
    (
      await db.query<{ id: string }>(
        `INSERT INTO merchants (owner_id, name, address, lat, lng, category)
         VALUES ($1, 'Shop', 'Hauptstraße 1', 49.41, 8.69, 'restaurant') RETURNING id`,
        [ownerId],
      )
    ).rows[0]!.id;
  /** Statements the database has run so far, to tell a cache hit from a read. */
  let reads = 0;

  beforeAll(async () => {
    db = await createPgliteDb({
      onAfterCommitError: (e) => {
        throw e;
      },
    });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  const counted = (): Db => ({
    ...db,
    query: (sql, params, options) => {
      reads += 1;
      return db.query(sql, params, options);
    },
  });

  it('reads a store once and answers from memory until the entry expires', async () => {
    const owner = await user('cached@example.com');
    const storeId = await store(owner);
    const storeOf = createStoreOfOwner(counted(), clock);
    reads = 0;
    expect(await storeOf(owner)).toBe(storeId);
    expect(await storeOf(owner)).toBe(storeId);
    expect(reads).toBe(1);
    clock.advance(11 * 60_000);
    expect(await storeOf(owner)).toBe(storeId);
    expect(reads).toBe(2);
  });

  it('does not remember that a user has no store, so a new store is seen at once', async () => {
    const owner = await user('opening@example.com');
    const storeOf = createStoreOfOwner(counted(), clock);
    expect(await storeOf(owner)).toBeNull();
    const storeId = await store(owner);
    expect(await storeOf(owner)).toBe(storeId);
  });
});
