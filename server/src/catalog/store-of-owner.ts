import type { Queryable } from '../db/db.ts';
import type { Clock } from '../platform/clock.ts';
import { LocalCache } from '../platform/local-cache.ts';
import { findMerchantByOwner } from './catalog.repository.ts';

const TTL_MS = 10 * 60_000;

/** The id of the store `ownerId` runs, read from the database (null: none yet). */
export async function readStoreOfOwner(db: Queryable, ownerId: string): Promise<string | null> {
  return (await findMerchantByOwner(db, ownerId))?.id ?? null;
}

/**
 * Which store a merchant user runs, for scoping their requests. A store gets its owner when it
 * is created and keeps it (no route changes `owner_id`), so an answer is kept for ten minutes
 * instead of being read again on every confirm, preparing and ready. A user with no store yet
 * is not cached: the store they open next is seen at once.
 */
export function createStoreOfOwner(db: Queryable, clock: Clock) {
  const cache = new LocalCache<string | null>({
    ttlMs: TTL_MS,
    jitterMs: 60_000,
    maxEntries: 50_000,
    clock,
    load: (ownerId) => readStoreOfOwner(db, ownerId),
    keep: (id) => id !== null,
  });
  return (ownerId: string): Promise<string | null> => cache.get(ownerId);
}

export type StoreOfOwner = ReturnType<typeof createStoreOfOwner>;
