import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Db, Queryable, Tx } from '../db/db.ts';
import { csvHeader, csvRow, parseCsv, type CsvValue } from './csv.ts';
import { readObject, type ObjectStore } from './store.ts';

/**
 * Archive sets: a folder of gzip-compressed CSV files, one per table, and a `manifest.json`
 * written last, listing each file's columns, row count, size and sha256. A set is verified by
 * reading every object back before the rows it holds may leave the database.
 */
export const ARCHIVE_FORMAT = 'delivery-archive/1';

export interface ArchivedTable {
  table: string;
  key: string;
  columns: string[];
  rows: number;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof ARCHIVE_FORMAT;
  /** What the set holds: `orders-month`, `order-events-day` or `location-daily`. */
  kind: string;
  /** The period the rows belong to: [from, to) in UTC. */
  from: string;
  to: string;
  createdAt: string;
  /** Anything else the kind records (the partition's name, the rows' fingerprint). */
  source: Record<string, unknown>;
  objects: ArchivedTable[];
}

/** Progress of long work: `done` of `total` units (rows unless `unit` says otherwise). */
export type ProgressFn = (p: { label: string; done: number; total: number; unit?: string }) => void;

export class ArchiveVerificationError extends Error {
  constructor(
    readonly prefix: string,
    readonly problems: string[],
  ) {
    super(`archive ${prefix} failed verification: ${problems.join('; ')}`);
  }
}

/** Session settings that make `::text` of every value the same in every session (UTC, ISO). */
export async function textSettings(tx: Queryable): Promise<void> {
  await tx.query(
    `SELECT set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true),
            set_config('intervalstyle', 'postgres', true), set_config('extra_float_digits', '1', true)`,
  );
}

/** Runs `fn` in a transaction with `textSettings`. */
export function withText<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await textSettings(tx);
    return fn(tx);
  });
}

export interface Column {
  name: string;
  type: string;
}

/** A table's columns in order, with their SQL types. */
export async function tableColumns(db: Queryable, table: string): Promise<Column[]> {
  const { rows } = await db.query<Column>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  if (rows.length === 0) throw new Error(`no such table: ${table}`);
  return rows;
}

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `"a"::text AS "a", ...` with an optional table alias. */
export function textSelectList(columns: readonly Column[], alias = ''): string {
  const p = alias ? `${alias}.` : '';
  return columns.map((c) => `${p}${ident(c.name)}::text AS ${ident(c.name)}`).join(', ');
}

export const rowValues = (row: Record<string, unknown>, columns: readonly Column[]): CsvValue[] =>
  columns.map((c) => (row[c.name] ?? null) as CsvValue);

/** A gzip CSV file being written, with its row count, size and sha256 once finished. */
export class CsvGzFile {
  private readonly gzip = createGzip();
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private count = 0;
  private readonly done: Promise<void>;

  constructor(
    readonly table: string,
    readonly columns: readonly Column[],
    readonly path: string,
  ) {
    const measure = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        cb(null, chunk);
      },
    });
    this.done = pipelineAsync(this.gzip, measure, createWriteStream(path));
    this.done.catch(() => undefined); // surfaced by finish()
    this.gzip.write(csvHeader(columns.map((c) => c.name)));
  }

  async write(row: Record<string, unknown>): Promise<void> {
    this.count++;
    if (!this.gzip.write(csvRow(rowValues(row, this.columns)))) await once(this.gzip, 'drain');
  }

  get rows(): number {
    return this.count;
  }

  async finish(key: string): Promise<ArchivedTable> {
    this.gzip.end();
    await this.done;
    return {
      table: this.table,
      key,
      columns: this.columns.map((c) => c.name),
      rows: this.count,
      bytes: this.bytes,
      sha256: this.hash.digest('hex'),
    };
  }
}

/** A temporary folder for export files, removed by `dispose` whatever happened. */
export async function stagingDir(): Promise<{ path: string; dispose(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'delivery-archive-'));
  return { path, dispose: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Reads an archived CSV object: yields its data rows while hashing the compressed bytes; after
 * the last row, `result()` gives the sha256, byte size and row count actually read.
 */
export function readArchivedRows(body: Readable, expectedColumns: readonly string[]) {
  const hash = createHash('sha256');
  let bytes = 0;
  let rows = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const text = pipeline(body, measure, createGunzip(), () => undefined);
  text.setEncoding('utf8');
  let digest: string | undefined;
  async function* iterate(): AsyncGenerator<CsvValue[]> {
    let header = true;
    for await (const row of parseCsv(text as AsyncIterable<string>)) {
      if (header) {
        header = false;
        if (row.join(',') !== expectedColumns.join(','))
          throw new Error(`unexpected CSV header: ${row.join(',')}`);
        continue;
      }
      if (row.length !== expectedColumns.length)
        throw new Error(
          `CSV row ${rows + 1} has ${row.length} fields, not ${expectedColumns.length}`,
        );
      rows++;
      yield row;
    }
    if (header) throw new Error('CSV has no header');
    digest = hash.digest('hex');
  }
  return {
    rows: iterate(),
    result: () => {
      if (!digest) throw new Error('archive object not read to the end');
      return { sha256: digest, bytes, rows };
    },
  };
}

/** Reads one archived object back whole and reports every way it differs from its manifest. */
export async function verifyObject(store: ObjectStore, obj: ArchivedTable): Promise<string[]> {
  const body = await store.get(obj.key);
  if (!body) return [`${obj.key}: missing`];
  try {
    const reader = readArchivedRows(body, obj.columns);
    for await (const row of reader.rows) void row; // read to the end: counts and hashes
    const got = reader.result();
    const problems: string[] = [];
    if (got.sha256 !== obj.sha256)
      problems.push(`${obj.key}: sha256 ${got.sha256} != ${obj.sha256}`);
    if (got.bytes !== obj.bytes) problems.push(`${obj.key}: ${got.bytes} bytes != ${obj.bytes}`);
    if (got.rows !== obj.rows) problems.push(`${obj.key}: ${got.rows} rows != ${obj.rows}`);
    return problems;
  } catch (err) {
    body.destroy();
    // Say whether the bytes differ from what was uploaded (a second read, on failure only).
    const again = await store.get(obj.key);
    const hash = createHash('sha256');
    if (again) for await (const chunk of again) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    return [
      ...(sha256 !== obj.sha256 ? [`${obj.key}: sha256 ${sha256} != ${obj.sha256}`] : []),
      `${obj.key}: unreadable (${(err as Error).message})`,
    ];
  }
}

/** Reads a manifest; null when absent. */
export async function readManifest(store: ObjectStore, key: string): Promise<Manifest | null> {
  const raw = await readObject(store, key);
  if (!raw) return null;
  const manifest = JSON.parse(raw.toString('utf8')) as Manifest;
  const format: string = manifest.format;
  if (format !== ARCHIVE_FORMAT) throw new Error(`${key}: unknown format ${format}`);
  return manifest;
}

/**
 * Uploads the finished files of a set, then its manifest, then reads everything back: the
 * manifest must be the one written and every object must match its size, sha256 and row count.
 * Throws ArchiveVerificationError otherwise; nothing is deleted either way.
 */
export async function uploadAndVerify(
  store: ObjectStore,
  prefix: string,
  files: Array<{ path: string; object: ArchivedTable }>,
  manifest: Manifest,
): Promise<void> {
  for (const f of files) await store.put(f.object.key, { file: f.path }, 'application/gzip');
  const manifestKey = `${prefix}/manifest.json`;
  await store.put(
    manifestKey,
    Buffer.from(JSON.stringify(manifest, null, 2) + '\n'),
    'application/json',
  );
  const problems: string[] = [];
  const back = await readManifest(store, manifestKey).catch((err: Error) => {
    problems.push(`${manifestKey}: unreadable (${err.message})`);
    return null;
  });
  if (!back) {
    if (!problems.length) problems.push(`${manifestKey}: missing`);
  } else if (JSON.stringify(back) !== JSON.stringify(manifest)) {
    problems.push(`${manifestKey}: differs from what was written`);
  }
  for (const obj of manifest.objects) problems.push(...(await verifyObject(store, obj)));
  if (problems.length) throw new ArchiveVerificationError(prefix, problems);
}

/** A short content id for a set: the same rows give the same keys, so re-runs overwrite. */
export const setId = (...parts: Array<string | number>) =>
  createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);

/** Every manifest under `prefix` (sets of one period), oldest first. */
export async function manifestsUnder(
  store: ObjectStore,
  prefix: string,
): Promise<Array<{ key: string; manifest: Manifest }>> {
  const keys = (await store.list(prefix)).filter((o) => o.key.endsWith('/manifest.json'));
  const out: Array<{ key: string; manifest: Manifest }> = [];
  for (const { key } of keys) {
    const manifest = await readManifest(store, key);
    if (manifest) out.push({ key, manifest });
  }
  return out.sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt));
}
