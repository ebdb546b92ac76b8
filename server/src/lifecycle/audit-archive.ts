import { join } from 'node:path';
import type { Db, Queryable } from '../db/db.ts';
import {
  ARCHIVE_FORMAT,
  CsvGzFile,
  setId,
  stagingDir,
  tableColumns,
  textSelectList,
  textSettings,
  uploadAndVerify,
  withText,
  type Manifest,
  type ProgressFn,
} from './archive.ts';
import { DAY_MS, noCheckpoint, utcDay, type Checkpoint } from './common.ts';
import type { ObjectStore } from './store.ts';

/**
 * Audit rows (`order_events`; design: 90 days in PostgreSQL, then 2 years in the object store):
 * every whole UTC day older than `hotDays` is exported to `audit/order_events/YYYY-MM-DD/`,
 * verified, and then deleted in a transaction that checks the rows are exactly those exported.
 */
const BATCH = 5_000;
const RANGE = `created_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
           AND created_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'`;

export interface AuditArchiveOptions {
  hotDays: number;
  now?: number;
  dryRun?: boolean;
  progress?: ProgressFn;
  checkpoint?: Checkpoint;
}

export interface AuditDayOutcome {
  day: string;
  rows: number;
  action: 'archived' | 'would-archive' | 'failed';
  prefix?: string;
  reason?: string;
}

async function dayFingerprint(tx: Queryable, day: string) {
  const { rows } = await tx.query<{ n: number; max_id: number | null; hash: string }>(
    `SELECT count(*)::int AS n, max(id) AS max_id,
            coalesce(md5(string_agg(md5(e::text), '' ORDER BY e.id)), '') AS hash
       FROM order_events e WHERE ${RANGE}`,
    [day],
  );
  return rows[0]!;
}

async function archiveDay(
  db: Db,
  store: ObjectStore,
  day: string,
  opts: AuditArchiveOptions,
): Promise<AuditDayOutcome> {
  const checkpoint = opts.checkpoint ?? noCheckpoint;
  const before = await withText(db, (tx) => dayFingerprint(tx, day));
  const prefix = `audit/order_events/${day}/${setId(day, before.n, before.hash)}`;
  if (opts.dryRun) return { day, rows: before.n, action: 'would-archive', prefix };
  const columns = await tableColumns(db, 'order_events');
  const staging = await stagingDir();
  try {
    const file = new CsvGzFile('order_events', columns, join(staging.path, 'events.csv.gz'));
    let after = 0;
    const label = `audit ${day}`;
    for (;;) {
      await checkpoint();
      const { rows } = await withText(db, (tx) =>
        tx.query<Record<string, string | null>>(
          `SELECT ${textSelectList(columns)} FROM order_events
            WHERE ${RANGE} AND id > $2 ORDER BY id LIMIT ${BATCH}`,
          [day, after],
        ),
      );
      if (rows.length === 0) break;
      for (const row of rows) await file.write(row);
      after = Number(rows[rows.length - 1]!.id);
      opts.progress?.({ label, done: file.rows, total: before.n });
    }
    const object = await file.finish(`${prefix}/order_events.csv.gz`);
    if (object.rows !== before.n) throw new Error(`order_events of ${day} changed during export`);
    const from = Date.parse(`${day}T00:00:00Z`);
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      kind: 'order-events-day',
      from: new Date(from).toISOString(),
      to: new Date(from + DAY_MS).toISOString(),
      createdAt: new Date(opts.now ?? Date.now()).toISOString(),
      source: { table: 'order_events', hash: before.hash },
      objects: [object],
    };
    await uploadAndVerify(store, prefix, [{ path: file.path, object }], manifest);
    await checkpoint();
    await db.transaction(async (tx) => {
      await textSettings(tx);
      const now = await dayFingerprint(tx, day);
      if (now.n !== before.n || now.hash !== before.hash) {
        throw new Error(`order_events of ${day} changed after export; will try again`);
      }
      const deleted = await tx.query(`DELETE FROM order_events WHERE ${RANGE} AND id <= $2`, [
        day,
        before.max_id,
      ]);
      if (deleted.rowCount !== before.n) {
        throw new Error(`deleted ${deleted.rowCount} events of ${day}, exported ${before.n}`);
      }
    });
    return { day, rows: before.n, action: 'archived', prefix };
  } finally {
    await staging.dispose();
  }
}

export async function archiveAuditEvents(
  db: Db,
  store: ObjectStore,
  opts: AuditArchiveOptions,
): Promise<AuditDayOutcome[]> {
  const cutoff = utcDay((opts.now ?? Date.now()) - opts.hotDays * DAY_MS);
  const { rows } = await db.query<{ day: string }>(
    `SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
       FROM order_events WHERE created_at < $1 ORDER BY 1`,
    [new Date(cutoff)],
  );
  const out: AuditDayOutcome[] = [];
  for (const { day } of rows) {
    try {
      out.push(await archiveDay(db, store, day, opts));
    } catch (err) {
      out.push({ day, rows: 0, action: 'failed', reason: (err as Error).message });
    }
  }
  return out;
}
