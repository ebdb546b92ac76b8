import { join } from 'node:path';
import type { Db, Queryable } from '../db/db.ts';
import {
  ARCHIVE_FORMAT,
  CsvGzFile,
  ident,
  setId,
  stagingDir,
  tableColumns,
  textSelectList,
  uploadAndVerify,
  withText,
  type Manifest,
  type ProgressFn,
} from './archive.ts';
import {
  DAY_MS,
  isoDay,
  noCheckpoint,
  PARTITION_LOCK,
  partitionsOf,
  relationExists,
  utcDay,
  type Checkpoint,
} from './common.ts';
import type { ObjectStore } from './store.ts';

/**
 * Location history (design: raw points 7 days in PostgreSQL, aggregated daily, gone after 30):
 * 1. every finished UTC day with raw points is rolled up into `driver_location_daily` (points,
 *    distance, active time, first/last point, top speed per driver), once;
 * 2. each rolled-up day's aggregates are written to the object store (`locations/YYYY-MM-DD/`);
 * 3. raw day partitions wholly older than `rawDays` are detached and dropped, only once rolled up;
 * 4. aggregates (and their store copies, by `archive-expiry`) older than `dailyDays` are deleted.
 */

/** Steps between two points further apart than this count neither distance nor active time. */
export const ACTIVE_GAP_SECONDS = 300;
/** A day is rolled up this long after it ended, so late batches of points are in. */
const ROLLUP_GRACE_MS = 3_600_000;

const PARENT = 'driver_location_history';
const DEFAULT_PART = `${PARENT}_default`;

export interface LocationRetentionOptions {
  rawDays: number;
  dailyDays: number;
  now?: number;
  dryRun?: boolean;
  progress?: ProgressFn;
  checkpoint?: Checkpoint;
}

export interface LocationRetentionReport {
  rolledUp: Array<{ day: string; drivers: number; points: number }>;
  archived: Array<{ day: string; prefix: string }>;
  droppedPartitions: string[];
  deletedDefaultRows: number;
  deletedAggregateDays: string[];
}

const dayOfPartition = (name: string) => {
  const m = /^driver_location_history_(\d{4})_(\d{2})_(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
};

async function rolledUpDays(db: Queryable): Promise<Map<string, boolean>> {
  const { rows } = await db.query<{ day: string; archived: boolean }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, archived_at IS NOT NULL AS archived
       FROM driver_location_rollups`,
  );
  return new Map(rows.map((r) => [r.day, r.archived]));
}

/** Days before `before` that have raw points, as `YYYY-MM-DD`. */
async function rawDays(db: Queryable, before: number): Promise<Map<string, string | null>> {
  const days = new Map<string, string | null>(); // day -> its partition (null: default)
  for (const name of await partitionsOf(db, PARENT)) {
    const day = dayOfPartition(name);
    if (day === null || day + DAY_MS > before) continue;
    const { rows } = await db.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${ident(name)}) AS any`,
    );
    if (rows[0]!.any) days.set(isoDay(day), name);
  }
  const { rows } = await db.query<{ day: string }>(
    `SELECT DISTINCT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
       FROM ${DEFAULT_PART} WHERE recorded_at < $1`,
    [new Date(before)],
  );
  for (const { day } of rows) if (!days.has(day)) days.set(day, null);
  return days;
}

/** Computes one day's aggregates and marks the day rolled up, in one transaction. */
async function rollUpDay(db: Db, day: string): Promise<{ drivers: number; points: number }> {
  return db.transaction(async (tx) => {
    await tx.query('DELETE FROM driver_location_daily WHERE day = $1::date', [day]);
    await tx.query(
      `INSERT INTO driver_location_daily
         (day, driver_id, points, distance_km, active_seconds, first_at, last_at, max_speed_mps)
       SELECT $1::date, driver_id, count(*)::int, coalesce(sum(km), 0),
              round(coalesce(sum(secs), 0))::int, min(recorded_at), max(recorded_at), max(speed_mps)
         FROM (SELECT driver_id, recorded_at, speed_mps,
                      CASE WHEN gap <= $2::numeric THEN haversine_km(plat, plng, lat, lng) END AS km,
                      CASE WHEN gap <= $2::numeric THEN gap END AS secs
                 FROM (SELECT driver_id, lat, lng, recorded_at, speed_mps,
                              lag(lat) OVER w AS plat, lag(lng) OVER w AS plng,
                              extract(epoch FROM recorded_at - lag(recorded_at) OVER w) AS gap
                         FROM ${PARENT}
                        WHERE recorded_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
                          AND recorded_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
                       WINDOW w AS (PARTITION BY driver_id ORDER BY recorded_at)) s) t
        GROUP BY driver_id`,
      [day, ACTIVE_GAP_SECONDS],
    );
    const { rows } = await tx.query<{ drivers: number; points: number }>(
      `INSERT INTO driver_location_rollups (day, drivers, points)
       SELECT $1::date, count(*)::int, coalesce(sum(points), 0)::int
         FROM driver_location_daily WHERE day = $1::date
       ON CONFLICT (day) DO UPDATE SET drivers = EXCLUDED.drivers, points = EXCLUDED.points,
                                       computed_at = now()
       RETURNING drivers, points`,
      [day],
    );
    return rows[0]!;
  });
}

/** Writes one day's aggregates to the store (verified) and records where. */
async function archiveDay(db: Db, store: ObjectStore, day: string, now: number): Promise<string> {
  const columns = await tableColumns(db, 'driver_location_daily');
  const rows = await withText(
    db,
    async (tx) =>
      (
        await tx.query<Record<string, string | null>>(
          `SELECT ${textSelectList(columns)} FROM driver_location_daily
          WHERE day = $1::date ORDER BY driver_id`,
          [day],
        )
      ).rows,
  );
  const content = rows.map((r) => columns.map((c) => r[c.name] ?? '\\N').join('\u0001'));
  const prefix = `locations/${day}/${setId(day, rows.length, content.join('\n'))}`;
  const staging = await stagingDir();
  try {
    const file = new CsvGzFile(
      'driver_location_daily',
      columns,
      join(staging.path, 'daily.csv.gz'),
    );
    for (const row of rows) await file.write(row);
    const object = await file.finish(`${prefix}/driver_location_daily.csv.gz`);
    const from = Date.parse(`${day}T00:00:00Z`);
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      kind: 'location-daily',
      from: new Date(from).toISOString(),
      to: new Date(from + DAY_MS).toISOString(),
      createdAt: new Date(now).toISOString(),
      source: { table: 'driver_location_daily', day, activeGapSeconds: ACTIVE_GAP_SECONDS },
      objects: [object],
    };
    await uploadAndVerify(store, prefix, [{ path: file.path, object }], manifest);
  } finally {
    await staging.dispose();
  }
  await db.query(
    `UPDATE driver_location_rollups SET archived_at = now(), archive_key = $2 WHERE day = $1::date`,
    [day, prefix],
  );
  return prefix;
}

export async function runLocationRetention(
  db: Db,
  store: ObjectStore,
  opts: LocationRetentionOptions,
): Promise<LocationRetentionReport> {
  const now = opts.now ?? Date.now();
  const checkpoint = opts.checkpoint ?? noCheckpoint;
  const report: LocationRetentionReport = {
    rolledUp: [],
    archived: [],
    droppedPartitions: [],
    deletedDefaultRows: 0,
    deletedAggregateDays: [],
  };
  const today = utcDay(now);
  const rawCutoff = today - opts.rawDays * DAY_MS; // raw days ending by then are dropped
  // Aggregates outlive the raw points they came from, or a day would be rolled up again.
  const dailyCutoff = today - Math.max(opts.dailyDays, opts.rawDays + 1) * DAY_MS;

  // 1. Roll up finished days.
  const rolled = await rolledUpDays(db);
  const raw = await rawDays(db, now - ROLLUP_GRACE_MS);
  const toRoll = [...raw.keys()].filter((d) => !rolled.has(d)).sort();
  for (const [i, day] of toRoll.entries()) {
    await checkpoint();
    opts.progress?.({ label: 'location rollup', done: i, total: toRoll.length, unit: 'days' });
    if (opts.dryRun) {
      const { rows } = await db.query<{ drivers: number; points: number }>(
        `SELECT count(DISTINCT driver_id)::int AS drivers, count(*)::int AS points FROM ${PARENT}
          WHERE recorded_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
            AND recorded_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'`,
        [day],
      );
      report.rolledUp.push({ day, ...rows[0]! });
    } else {
      report.rolledUp.push({ day, ...(await rollUpDay(db, day)) });
      rolled.set(day, false);
    }
  }

  // 2. Archive aggregates not yet in the store (a crash between 1 and 2 is picked up here).
  for (const [day, archived] of [...rolled.entries()].sort()) {
    if (archived) continue;
    await checkpoint();
    if (opts.dryRun) report.archived.push({ day, prefix: `locations/${day}/…` });
    else report.archived.push({ day, prefix: await archiveDay(db, store, day, now) });
  }

  // 3. Drop raw points of days wholly older than the window, once rolled up.
  for (const name of await partitionsOf(db, PARENT)) {
    const day = dayOfPartition(name);
    if (day === null || day + DAY_MS > rawCutoff) continue;
    const iso = isoDay(day);
    if (raw.has(iso) && !rolled.has(iso) && !opts.dryRun) continue; // not rolled up: keep
    await checkpoint();
    if (opts.dryRun) {
      report.droppedPartitions.push(name);
      continue;
    }
    const dropped = await db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('lock_timeout', '10s', true)`);
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      if (!(await relationExists(tx, name))) return false;
      await tx.query(`LOCK TABLE ${PARENT} IN ACCESS EXCLUSIVE MODE`);
      const { rows } = await tx.query<{ ok: boolean }>(
        `SELECT NOT EXISTS (SELECT 1 FROM ${ident(name)})
             OR EXISTS (SELECT 1 FROM driver_location_rollups WHERE day = $1::date) AS ok`,
        [iso],
      );
      if (!rows[0]!.ok) return false;
      await tx.query(`ALTER TABLE ${PARENT} DETACH PARTITION ${ident(name)}`);
      await tx.query(`DROP TABLE ${ident(name)}`);
      return true;
    });
    if (dropped) report.droppedPartitions.push(name);
  }
  const defaultSql = `FROM ${DEFAULT_PART} WHERE recorded_at < $1
      AND (recorded_at AT TIME ZONE 'UTC')::date IN (SELECT day FROM driver_location_rollups)`;
  if (opts.dryRun) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${DEFAULT_PART} WHERE recorded_at < $1`,
      [new Date(rawCutoff)],
    );
    report.deletedDefaultRows = rows[0]!.n;
  } else {
    report.deletedDefaultRows = (
      await db.query(`DELETE ${defaultSql}`, [new Date(rawCutoff)])
    ).rowCount;
  }

  // 4. Delete expired aggregates (those whose day is archived, or that no rollup accounts for).
  const expiring = await db.query<{ day: string }>(
    `SELECT DISTINCT to_char(d.day, 'YYYY-MM-DD') AS day FROM driver_location_daily d
       LEFT JOIN driver_location_rollups r ON r.day = d.day
      WHERE d.day < $1::date AND (r.day IS NULL OR r.archived_at IS NOT NULL OR $2)
      ORDER BY 1`,
    [isoDay(dailyCutoff), opts.dryRun ?? false],
  );
  report.deletedAggregateDays = expiring.rows.map((r) => r.day);
  if (!opts.dryRun) {
    await db.transaction(async (tx) => {
      await tx.query(`DELETE FROM driver_location_daily WHERE day = ANY($1::date[])`, [
        report.deletedAggregateDays,
      ]);
      await tx.query(
        `DELETE FROM driver_location_rollups WHERE day < $1::date AND archived_at IS NOT NULL`,
        [isoDay(dailyCutoff)],
      );
    });
  }
  return report;
}
