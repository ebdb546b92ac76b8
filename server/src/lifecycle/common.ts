import type { Queryable } from '../db/db.ts';

/**
 * Shared by partition creation (`db/partitions.ts`) and every job that detaches or drops a
 * partition, so they never interleave.
 */
export { PARTITION_LOCK } from '../db/partitions.ts';

export const DAY_MS = 86_400_000;

/** Midnight UTC of the day holding `t`. */
export const utcDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

/** `YYYY-MM-DD` of a UTC instant. */
export const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

export async function relationExists(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [
    name,
  ]);
  return rows[0]?.r != null;
}

/** Children of a range-partitioned table, by name (`<parent>_YYYY_MM[_DD]`, as created). */
export async function partitionsOf(db: Queryable, parent: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
    [parent],
  );
  return rows.map((r) => r.name);
}

/** Checked between batches of long work: throws when the job must stop (lease lost, shutdown). */
export type Checkpoint = () => Promise<void>;
export const noCheckpoint: Checkpoint = async () => undefined;
