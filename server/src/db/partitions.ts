import type { Db } from './db.ts';

// Serialises partition creation and removal across instances (startup, CLI, lifecycle jobs).
export const PARTITION_LOCK = 72_114_003;

/** Partitions kept ready ahead of time, so no insert ever lands without one. */
export async function ensurePartitions(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const { rows } = await tx.query<{ orders: number; history: number }>(
      `SELECT ensure_range_partitions('orders', 'month', now() - interval '1 month', 5) AS orders,
              ensure_range_partitions('driver_location_history', 'day', now() - interval '1 day', 10) AS history`,
    );
    return (rows[0]?.orders ?? 0) + (rows[0]?.history ?? 0);
  });
}
