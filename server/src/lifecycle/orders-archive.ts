import { join } from 'node:path';
import type { Db, Queryable, Tx } from '../db/db.ts';
import {
  ARCHIVE_FORMAT,
  CsvGzFile,
  ident,
  manifestsUnder,
  readArchivedRows,
  setId,
  stagingDir,
  tableColumns,
  textSelectList,
  textSettings,
  uploadAndVerify,
  verifyObject,
  withText,
  type Column,
  type Manifest,
  type ProgressFn,
} from './archive.ts';
import { noCheckpoint, PARTITION_LOCK, relationExists, type Checkpoint } from './common.ts';
import type { ObjectStore } from './store.ts';

/**
 * Order archival (design: completed orders 30 days hot, then CSV in the object store).
 *
 * What goes with a monthly partition `orders_YYYY_MM`:
 * - `orders`: its rows, exported, then the partition is detached and dropped;
 * - `order_items` of those orders: exported and deleted (their foreign key points into the
 *   partition, so they must go before it is detached);
 * - `order_events` of those orders: a copy is exported, so the archive is a self-contained record
 *   of each order, but the rows stay: the audit trail has its own retention (90 days in
 *   PostgreSQL, then the `audit-archive` job).
 * Ratings, offers and notifications keep their rows (no foreign key to orders).
 */
const BATCH = 1_000;
const TERMINAL = `('delivered', 'cancelled')`;

export interface MonthPartition {
  name: string;
  /** `YYYY-MM` */
  month: string;
  from: Date;
  to: Date;
}

export interface PartitionOutcome {
  partition: string;
  month: string;
  action:
    | 'archived'
    | 'would-archive'
    | 'dropped-empty'
    | 'would-drop-empty'
    | 'skipped-active'
    | 'failed';
  orders: number;
  items: number;
  events: number;
  prefix?: string;
  reason?: string;
}

export interface ArchiveOrdersOptions {
  hotDays: number;
  now?: number;
  dryRun?: boolean;
  progress?: ProgressFn;
  checkpoint?: Checkpoint;
}

const monthOf = (name: string) => /^orders_(\d{4})_(\d{2})$/.exec(name);

export async function orderMonthPartitions(db: Queryable): Promise<MonthPartition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'orders'::regclass ORDER BY 1`,
  );
  const out: MonthPartition[] = [];
  for (const { name } of rows) {
    const m = monthOf(name);
    if (!m) continue; // orders_default
    const year = Number(m[1]);
    const month = Number(m[2]);
    out.push({
      name,
      month: `${m[1]}-${m[2]}`,
      from: new Date(Date.UTC(year, month - 1, 1)),
      to: new Date(Date.UTC(year, month, 1)),
    });
  }
  return out;
}

/**
 * Months ending before this instant may be archived: `hotDays` ago, and never the previous
 * calendar month, which the partitions job keeps (it would create it again, empty).
 */
export function ordersCutoff(now: number, hotDays: number): number {
  const d = new Date(now);
  return Math.min(now - hotDays * 86_400_000, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
}

interface Fingerprint {
  orders: number;
  active: number;
  ordersHash: string;
  items: number;
  itemsHash: string;
}

/** Counts and a hash of every row of the partition and of its items (text in UTC). */
async function fingerprint(tx: Queryable, part: string): Promise<Fingerprint> {
  const p = ident(part);
  const o = await tx.query<{ orders: number; active: number; hash: string }>(
    `SELECT count(*)::int AS orders,
            count(*) FILTER (WHERE o.status NOT IN ${TERMINAL})::int AS active,
            coalesce(md5(string_agg(md5(o::text), '' ORDER BY o.id, o.created_at)), '') AS hash
       FROM ${p} o`,
  );
  const i = await tx.query<{ items: number; hash: string }>(
    `SELECT count(*)::int AS items,
            coalesce(md5(string_agg(md5(i::text), '' ORDER BY i.id)), '') AS hash
       FROM order_items i JOIN ${p} o ON o.id = i.order_id AND o.created_at = i.order_created_at`,
  );
  return {
    orders: o.rows[0]!.orders,
    active: o.rows[0]!.active,
    ordersHash: o.rows[0]!.hash,
    items: i.rows[0]!.items,
    itemsHash: i.rows[0]!.hash,
  };
}

const sameRows = (a: Fingerprint, b: Fingerprint) =>
  a.orders === b.orders &&
  a.ordersHash === b.ordersHash &&
  a.items === b.items &&
  a.itemsHash === b.itemsHash;

async function countEvents(db: Queryable, part: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM order_events e
      WHERE e.order_id IN (SELECT id FROM ${ident(part)})`,
  );
  return rows[0]!.n;
}

/** Detaches and drops a partition in the caller's transaction, which already holds the locks. */
async function dropPartition(tx: Tx, part: string): Promise<void> {
  await tx.query(`ALTER TABLE orders DETACH PARTITION ${ident(part)}`);
  await tx.query(`DROP TABLE ${ident(part)}`);
}

/** Takes the locks that the destructive step of archival needs, in a fixed order. */
async function lockForDrop(tx: Tx): Promise<void> {
  await tx.query(`SELECT set_config('lock_timeout', '10s', true)`);
  await textSettings(tx);
  await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
  await tx.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
}

/** Exports one partition to a staging folder; returns the finished files. */
async function exportPartition(
  db: Db,
  part: MonthPartition,
  dir: string,
  prefix: string,
  total: number,
  progress: ProgressFn | undefined,
  checkpoint: Checkpoint,
) {
  const [orderCols, itemCols, eventCols] = await Promise.all([
    tableColumns(db, 'orders'),
    tableColumns(db, 'order_items'),
    tableColumns(db, 'order_events'),
  ]);
  const files = {
    orders: new CsvGzFile('orders', orderCols, join(dir, 'orders.csv.gz')),
    items: new CsvGzFile('order_items', itemCols, join(dir, 'order_items.csv.gz')),
    events: new CsvGzFile('order_events', eventCols, join(dir, 'order_events.csv.gz')),
  };
  const label = `orders ${part.month}`;
  let cursor: [string, string] | null = null;
  progress?.({ label, done: 0, total });
  for (;;) {
    await checkpoint();
    const after: [string, string] | null = cursor;
    type Rows = Array<Record<string, string | null>>;
    const batch = await withText(
      db,
      async (tx): Promise<{ orders: Rows; items: Rows; events: Rows } | null> => {
        const orders = await tx.query<Record<string, string | null>>(
          `SELECT ${textSelectList(orderCols, 'o')} FROM ${ident(part.name)} o
          ${after ? 'WHERE (o.id, o.created_at) > ($1::uuid, $2::timestamptz)' : ''}
          ORDER BY o.id, o.created_at LIMIT ${BATCH}`,
          after ?? [],
        );
        if (orders.rows.length === 0) return null;
        const ids = orders.rows.map((r) => r.id!);
        const items = await tx.query<Record<string, string | null>>(
          `SELECT ${textSelectList(itemCols, 'i')} FROM order_items i
          WHERE i.order_id = ANY($1::uuid[]) AND i.order_created_at >= $2 AND i.order_created_at < $3
          ORDER BY i.order_id, i.id`,
          [ids, part.from, part.to],
        );
        const events = await tx.query<Record<string, string | null>>(
          `SELECT ${textSelectList(eventCols, 'e')} FROM order_events e
          WHERE e.order_id = ANY($1::uuid[]) ORDER BY e.id`,
          [ids],
        );
        return { orders: orders.rows, items: items.rows, events: events.rows };
      },
    );
    if (!batch) break;
    for (const row of batch.orders) await files.orders.write(row);
    for (const row of batch.items) await files.items.write(row);
    for (const row of batch.events) await files.events.write(row);
    const last = batch.orders[batch.orders.length - 1]!;
    cursor = [last.id!, last.created_at!];
    progress?.({ label, done: files.orders.rows, total });
  }
  return Promise.all(
    Object.values(files).map(async (f) => ({
      path: f.path,
      object: await f.finish(`${prefix}/${f.table}.csv.gz`),
    })),
  );
}

async function archiveOne(
  db: Db,
  store: ObjectStore,
  part: MonthPartition,
  opts: ArchiveOrdersOptions,
): Promise<PartitionOutcome> {
  const checkpoint = opts.checkpoint ?? noCheckpoint;
  const before = await withText(db, (tx) => fingerprint(tx, part.name));
  const events = await countEvents(db, part.name);
  const base = {
    partition: part.name,
    month: part.month,
    orders: before.orders,
    items: before.items,
    events,
  };
  if (before.active > 0) {
    return {
      ...base,
      action: 'skipped-active',
      reason: `${before.active} order(s) not yet delivered or cancelled`,
    };
  }
  if (before.orders === 0) {
    if (opts.dryRun) return { ...base, action: 'would-drop-empty' };
    await db.transaction(async (tx) => {
      await lockForDrop(tx);
      if (!(await relationExists(tx, part.name))) return;
      const now = await fingerprint(tx, part.name);
      if (now.orders !== 0) throw new Error(`${part.name} received rows meanwhile`);
      await dropPartition(tx, part.name);
    });
    return { ...base, action: 'dropped-empty' };
  }
  const prefix = `orders/${part.month}/${setId(before.orders, before.ordersHash, before.items, before.itemsHash)}`;
  if (opts.dryRun) return { ...base, action: 'would-archive', prefix };

  const staging = await stagingDir();
  try {
    const files = await exportPartition(
      db,
      part,
      staging.path,
      prefix,
      before.orders,
      opts.progress,
      checkpoint,
    );
    const [orders, items] = files.map((f) => f.object);
    if (orders!.rows !== before.orders || items!.rows !== before.items) {
      throw new Error(`${part.name} changed during the export; will try again on the next run`);
    }
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      kind: 'orders-month',
      from: part.from.toISOString(),
      to: part.to.toISOString(),
      createdAt: new Date(opts.now ?? Date.now()).toISOString(),
      source: {
        partition: part.name,
        ordersHash: before.ordersHash,
        itemsHash: before.itemsHash,
        note: 'order_events is a copy; those rows stay in PostgreSQL under the audit retention',
      },
      objects: files.map((f) => f.object),
    };
    await uploadAndVerify(store, prefix, files, manifest);
    await checkpoint();
    await db.transaction(async (tx) => {
      await lockForDrop(tx);
      if (!(await relationExists(tx, part.name))) {
        throw new Error(`${part.name} is already gone (archived by another run?)`);
      }
      const now = await fingerprint(tx, part.name);
      if (!sameRows(now, before)) {
        throw new Error(`${part.name} changed after the export; will try again on the next run`);
      }
      const deleted = await tx.query(
        `DELETE FROM order_items i USING ${ident(part.name)} o
          WHERE i.order_id = o.id AND i.order_created_at = o.created_at`,
      );
      if (deleted.rowCount !== before.items) {
        throw new Error(`deleted ${deleted.rowCount} items, exported ${before.items}`);
      }
      await dropPartition(tx, part.name);
    });
    return { ...base, action: 'archived', prefix };
  } finally {
    await staging.dispose();
  }
}

/**
 * Archives every monthly order partition that ended before the hot window: export (orders, their
 * items, a copy of their events), upload, read back and verify, and only then delete the items
 * and detach and drop the partition, in one transaction that first checks the rows are exactly
 * the exported ones. A failure leaves the partition as it was; a re-run writes the same keys.
 */
export async function archiveOrders(
  db: Db,
  store: ObjectStore,
  opts: ArchiveOrdersOptions,
): Promise<PartitionOutcome[]> {
  const cutoff = ordersCutoff(opts.now ?? Date.now(), opts.hotDays);
  const due = (await orderMonthPartitions(db)).filter((p) => p.to.getTime() <= cutoff);
  const out: PartitionOutcome[] = [];
  for (const part of due) {
    try {
      out.push(await archiveOne(db, store, part, opts));
    } catch (err) {
      out.push({
        partition: part.name,
        month: part.month,
        action: 'failed',
        orders: 0,
        items: 0,
        events: 0,
        reason: (err as Error).message,
      });
    }
  }
  return out;
}

export interface RestoreOutcome {
  month: string;
  partition: string;
  sets: string[];
  dryRun: boolean;
  partitionExisted: boolean;
  tables: Array<{ table: string; archived: number; inserted: number }>;
}

const TABLE_ORDER = ['orders', 'order_items', 'order_events'];

async function insertBatch(
  tx: Queryable,
  table: string,
  columns: readonly Column[],
  rows: Array<Array<string | null>>,
): Promise<number> {
  if (rows.length === 0) return 0;
  const params: Array<string | null> = [];
  const tuples = rows.map((row) => {
    const cells = row.map((v, i) => {
      params.push(v);
      return `$${params.length}::${columns[i]!.type}`;
    });
    return `(${cells.join(', ')})`;
  });
  const res = await tx.query(
    `INSERT INTO ${ident(table)} (${columns.map((c) => ident(c.name)).join(', ')})
     VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
    params,
  );
  return res.rowCount;
}

/**
 * Loads the archive of one month back: recreates the partition, inserts orders, items and the
 * events copy (rows already present are left alone, so a restore can be repeated), all in one
 * transaction that commits only if every object's checksum and row count match its manifest.
 * A restored month is archived again by the next `orders-archive` run unless that job is
 * disabled or `ORDERS_HOT_DAYS` covers it.
 */
export async function restoreOrdersMonth(
  db: Db,
  store: ObjectStore,
  month: string,
  opts: { dryRun?: boolean; progress?: ProgressFn } = {},
): Promise<RestoreOutcome> {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`not a month: ${month}`);
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  const partition = `orders_${m[1]}_${m[2]}`;
  const sets = await manifestsUnder(store, `orders/${month}/`);
  if (sets.length === 0) throw new Error(`no archive of ${month} in ${store.location}`);
  const outcome: RestoreOutcome = {
    month,
    partition,
    sets: sets.map((s) => s.key.replace(/\/manifest\.json$/, '')),
    dryRun: Boolean(opts.dryRun),
    partitionExisted: await relationExists(db, partition),
    tables: [],
  };
  const objects = sets
    .flatMap((s) => s.manifest.objects)
    .sort((a, b) => TABLE_ORDER.indexOf(a.table) - TABLE_ORDER.indexOf(b.table));
  const tally = (table: string, archived: number, inserted: number) => {
    const t = outcome.tables.find((x) => x.table === table);
    if (t) {
      t.archived += archived;
      t.inserted += inserted;
    } else outcome.tables.push({ table, archived, inserted });
  };

  if (opts.dryRun) {
    for (const obj of objects) {
      const problems = await verifyObject(store, obj);
      if (problems.length) throw new Error(`archive damaged: ${problems.join('; ')}`);
      tally(obj.table, obj.rows, 0);
    }
    return outcome;
  }

  await db.transaction(async (tx) => {
    await textSettings(tx);
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    await tx.query(`SELECT ensure_range_partitions('orders', 'month', $1::timestamptz, 1)`, [from]);
    if (!(await relationExists(tx, partition))) {
      throw new Error(`cannot create ${partition}: rows of ${month} sit in orders_default`);
    }
    for (const obj of objects) {
      if (!TABLE_ORDER.includes(obj.table)) throw new Error(`unexpected table ${obj.table}`);
      const all = await tableColumns(tx, obj.table);
      const columns = obj.columns.map((name) => {
        const c = all.find((x) => x.name === name);
        if (!c) throw new Error(`${obj.table}.${name} no longer exists`);
        return c;
      });
      const body = await store.get(obj.key);
      if (!body) throw new Error(`${obj.key}: missing`);
      const reader = readArchivedRows(body, obj.columns);
      const perBatch = Math.max(1, Math.floor(30_000 / columns.length));
      let pending: Array<Array<string | null>> = [];
      let inserted = 0;
      let read = 0;
      const label = `restore ${obj.table} ${month}`;
      for await (const row of reader.rows) {
        pending.push(row);
        read++;
        if (pending.length >= perBatch) {
          inserted += await insertBatch(tx, obj.table, columns, pending);
          pending = [];
          opts.progress?.({ label, done: read, total: obj.rows });
        }
      }
      inserted += await insertBatch(tx, obj.table, columns, pending);
      opts.progress?.({ label, done: read, total: obj.rows });
      const got = reader.result();
      if (got.sha256 !== obj.sha256 || got.rows !== obj.rows) {
        throw new Error(
          `${obj.key}: read ${got.rows} rows with sha256 ${got.sha256}, manifest says ${obj.rows} / ${obj.sha256}`,
        );
      }
      tally(obj.table, obj.rows, inserted);
    }
    // Restored audit rows carry their ids; keep the sequence ahead of them.
    await tx.query(
      `SELECT setval(pg_get_serial_sequence('order_events', 'id'),
                     greatest((SELECT coalesce(max(id), 0) FROM order_events),
                              (SELECT last_value FROM order_events_id_seq), 1))`,
    );
  });
  return outcome;
}
