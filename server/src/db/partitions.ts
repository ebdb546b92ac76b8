import type { Queryable } from './db.ts';

/** Partitions kept ready ahead of time, so no insert ever lands without one. */
export async function ensurePartitions(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ orders: number; history: number }>(
    `SELECT ensure_range_partitions('orders', 'month', now() - interval '1 month', 5) AS orders,
            ensure_range_partitions('driver_location_history', 'day', now() - interval '1 day', 10) AS history`,
  );
  return (rows[0]?.orders ?? 0) + (rows[0]?.history ?? 0);
}
