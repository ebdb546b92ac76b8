import type { Db } from '../db/db.ts';

/**
 * Plain deletions of rows past their age, in batches so no transaction grows large and a crash
 * mid-way leaves only rows the next run deletes.
 */
const BATCH = 5_000;

export interface PurgeOutcome {
  table: string;
  olderThan: string;
  deleted: number;
  dryRun: boolean;
}

async function purge(
  db: Db,
  table: string,
  key: string,
  olderThan: Date,
  dryRun: boolean,
): Promise<PurgeOutcome> {
  const outcome = { table, olderThan: olderThan.toISOString(), deleted: 0, dryRun };
  if (dryRun) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE created_at < $1`,
      [olderThan],
    );
    outcome.deleted = rows[0]!.n;
    return outcome;
  }
  for (;;) {
    const res = await db.query(
      `DELETE FROM ${table} WHERE (${key}) IN
         (SELECT ${key} FROM ${table} WHERE created_at < $1 LIMIT ${BATCH})`,
      [olderThan],
    );
    outcome.deleted += res.rowCount;
    if (res.rowCount < BATCH) return outcome;
  }
}

/**
 * Idempotency keys older than `hours` (API.md: a key lives 24 h; an older key is a new request
 * anyway, so its row only takes space).
 */
export function purgeIdempotencyKeys(db: Db, hours: number, now: number, dryRun = false) {
  return purge(db, 'idempotency_keys', 'user_id, key', new Date(now - hours * 3_600_000), dryRun);
}

/**
 * Notifications older than `days`. The design's table has no row for them: they are an inbox
 * (what happened to an order is in order_events), so old ones are deleted, read or not, and not
 * archived.
 */
export function purgeNotifications(db: Db, days: number, now: number, dryRun = false) {
  return purge(db, 'notifications', 'id', new Date(now - days * 86_400_000), dryRun);
}
