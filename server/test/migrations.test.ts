import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/db.ts';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { ensurePartitions } from '../src/db/partitions.ts';
import { createPgliteDb } from '../src/db/pglite.ts';
import { createPostgresDb } from '../src/db/postgres.ts';

/**
 * Migrations and partitions against a database of the test's own: a fresh in-memory PGlite
 * each time, or, when DATABASE_URL is set, a fresh database on that server (dropped afterwards).
 */
const DATABASE_URL = process.env.DATABASE_URL;
const MIGRATIONS_DIR = fileURLToPath(new URL('../src/db/migrations/', import.meta.url));

// Migrations register no after-commit hooks; pool errors (idle client lost) are kept, not thrown.
const poolErrors: unknown[] = [];
const keepError = (err: unknown) => void poolErrors.push(err);

const openDbs: Db[] = [];
const createdDatabases: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new empty database; returns a URL to it (PostgreSQL) or null (embedded mode). */
async function freshDatabaseUrl(): Promise<string | null> {
  if (!DATABASE_URL) return null;
  const url = new URL(DATABASE_URL);
  const name = `${url.pathname.slice(1) || 'delivery'}_mig_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  createdDatabases.push(name);
  url.pathname = `/${name}`;
  return url.toString();
}

async function open(url: string | null, poolSize = 4): Promise<Db> {
  const db = url
    ? createPostgresDb({ url, poolSize, onAfterCommitError: keepError })
    : await createPgliteDb({ onAfterCommitError: keepError });
  openDbs.push(db);
  return db;
}

const freshDb = async () => open(await freshDatabaseUrl());

afterAll(async () => {
  await Promise.allSettled(openDbs.map((db) => db.close()));
  for (const name of createdDatabases) {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
});

/** Migration names as the files in the migrations directory spell them, sorted. */
async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

async function recorded(db: Db): Promise<Array<{ version: number; name: string }>> {
  return (
    await db.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version',
    )
  ).rows;
}

async function tables(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

const exists = async (db: Db, relation: string) =>
  (await db.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [relation])).rows[0]!
    .r !== null;

/** `orders_YYYY_MM` of the month `offset` months from the database's now(), in UTC. */
async function ordersPartition(db: Db, offset: number): Promise<string> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT 'orders_' || to_char((now() AT TIME ZONE 'UTC') + make_interval(months => $1::int),
                                 'YYYY_MM') AS name`,
    [offset],
  );
  return rows[0]!.name;
}

describe('applying migrations', () => {
  it('is a no-op the second time and records one row per migration file', async () => {
    const db = await freshDb();
    const files = await migrationFiles();
    expect(files.length).toBeGreaterThan(0);

    expect(await migrate(db)).toEqual(files);
    const tablesAfterFirst = await tables(db);
    expect(tablesAfterFirst).toEqual(
      expect.arrayContaining(['schema_migrations', 'users', 'orders', 'orders_default']),
    );

    expect(await migrate(db)).toEqual([]);
    expect(await tables(db)).toEqual(tablesAfterFirst);
    expect(await recorded(db)).toEqual(
      files.map((name) => ({ version: Number(name.split('_')[0]), name })),
    );
  });

  it('applies each migration exactly once when two runners start together', async () => {
    const files = await migrationFiles();
    const url = await freshDatabaseUrl();
    // Two pools on PostgreSQL are two instances; PGlite has a single connection to share.
    const first = await open(url);
    const second = url ? await open(url) : first;

    const [a, b] = await Promise.all([migrate(first), migrate(second)]);

    expect([...a, ...b].sort()).toEqual(files);
    expect(await recorded(first)).toHaveLength(files.length);
    expect((await recorded(second)).map((r) => r.name)).toEqual(files);
  });

  it('rolls a failing migration back completely and records nothing of it', async () => {
    const db = await freshDb();
    const broken = {
      version: 999,
      name: '999_broken',
      sql: 'CREATE TABLE t_ok (x int); SELECT * FROM no_such_table;',
    };

    await expect(migrate(db, [...(await loadMigrations()), broken])).rejects.toThrow(
      /no_such_table/,
    );

    expect(await exists(db, 't_ok')).toBe(false);
    const rows = await recorded(db);
    expect(rows.map((r) => r.version)).not.toContain(999);
    // The migrations before the broken one committed on their own.
    expect(rows.map((r) => r.name)).toEqual(await migrationFiles());
  });
});

describe('partitions', () => {
  it('creates a missing partition exactly once when two instances ensure partitions together', async () => {
    const url = await freshDatabaseUrl();
    const first = await open(url);
    const second = url ? await open(url) : first;
    await migrate(first);
    const next = await ordersPartition(first, 1);
    await first.query(`ALTER TABLE orders DETACH PARTITION ${next}`);
    await first.query(`DROP TABLE ${next}`);

    const created = await Promise.all([ensurePartitions(first), ensurePartitions(second)]);

    expect(created.sort()).toEqual([0, 1]);
    expect(await exists(first, next)).toBe(true);
  });

  it('keeps monthly order partitions ready and sends far-future rows to the default', async () => {
    const db = await freshDb();
    await migrate(db);

    const current = await ordersPartition(db, 0);
    const next = await ordersPartition(db, 1);
    const parents = await db.query<{ parent: string }>(
      `SELECT i.inhparent::regclass::text AS parent FROM pg_inherits i
        WHERE i.inhrelid = to_regclass($1)`,
      [current],
    );
    expect(parents.rows).toEqual([{ parent: 'orders' }]);

    // A missing partition ahead is created again, and only once.
    // (order_items' foreign key depends on each partition, so detach before dropping.)
    await db.query(`ALTER TABLE orders DETACH PARTITION ${next}`);
    await db.query(`DROP TABLE ${next}`);
    expect(await exists(db, next)).toBe(false);
    expect(await ensurePartitions(db)).toBe(1);
    expect(await exists(db, next)).toBe(true);
    const before = await tables(db);
    expect(await ensurePartitions(db)).toBe(0);
    expect(await tables(db)).toEqual(before);

    const user = await db.query<{ id: string }>(
      `INSERT INTO users (email, password_hash, name, role)
       VALUES ($1, 'x', 'Partition customer', 'customer') RETURNING id`,
      [`part-${randomBytes(4).toString('hex')}@test.local`],
    );
    const merchant = await db.query<{ id: string }>(
      `INSERT INTO merchants (name, address, lat, lng, category)
       VALUES ('Partition store', 'Bismarckplatz 1', 49.4093, 8.6937, 'restaurant') RETURNING id`,
    );
    const insertOrder = (createdAt: string) =>
      db.query<{ partition: string }>(
        `INSERT INTO orders (created_at, customer_id, merchant_id, delivery_address, delivery_lat,
                             delivery_lng, distance_km, subtotal_cents, delivery_fee_cents,
                             tip_cents, total_cents)
         VALUES (${createdAt}, $1, $2, 'Hauptstraße 1', 49.41, 8.70, 1.2, 1000, 299, 0, 1299)
         RETURNING tableoid::regclass::text AS partition`,
        [user.rows[0]!.id, merchant.rows[0]!.id],
      );

    expect((await insertOrder('now()')).rows).toEqual([{ partition: current }]);
    expect((await insertOrder("now() + interval '2 years'")).rows).toEqual([
      { partition: 'orders_default' },
    ]);
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    expect(count.rows[0]!.n).toBe(2);
  });
});

describe('statements across a schema change', () => {
  // The PostgreSQL adapter prepares parameterised statements once per connection. A migration
  // run meanwhile by another instance changes what `SELECT *` returns; the statement prepared
  // before must not fail the requests that run it afterwards.
  it('answers with the new columns, in and out of transactions, after a column is added', async () => {
    const db = await open(await freshDatabaseUrl(), 1); // one connection: it holds the old plan
    await db.query('CREATE TABLE shelf (id int PRIMARY KEY, name text)');
    await db.query(`INSERT INTO shelf VALUES (1, 'jar')`);
    const read = () => db.query('SELECT * FROM shelf WHERE id = $1', [1]);
    const readInTx = () =>
      db.transaction((tx) => tx.query('SELECT * FROM shelf WHERE id = $1', [1]));
    expect((await read()).rows).toEqual([{ id: 1, name: 'jar' }]);
    expect((await readInTx()).rows).toEqual([{ id: 1, name: 'jar' }]);

    await db.query(`ALTER TABLE shelf ADD COLUMN size text NOT NULL DEFAULT 'small'`);
    expect((await read()).rows).toEqual([{ id: 1, name: 'jar', size: 'small' }]);
    await db.query(`ALTER TABLE shelf ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
    expect((await readInTx()).rows).toEqual([{ id: 1, name: 'jar', size: 'small', colour: 'red' }]);
  });
});

// PGlite has no connection to prepare statements on: this is the PostgreSQL adapter's behaviour.
describe.runIf(Boolean(DATABASE_URL))('statements planned on every call', () => {
  // A statement over churning tables can ask not to be prepared, so that PostgreSQL plans it
  // with the values and table sizes of the moment instead of reusing a plan cached at start-up.
  it('prepares a parameterised statement once per connection unless told not to', async () => {
    const db = await open(await freshDatabaseUrl(), 1); // one connection: one set of statements
    const prepared = (marker: string) =>
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE $1`,
        [`%AS ${marker}%`],
      );
    await db.query('SELECT $1::int AS planned_once', [1]);
    await db.query('SELECT $1::int AS planned_each_time', [1], { prepare: false });
    await db.transaction((tx) =>
      tx.query('SELECT $1::int AS planned_each_time_in_tx', [1], { prepare: false }),
    );
    expect((await prepared('planned_once')).rows[0]!.n).toBe(1);
    expect((await prepared('planned_each_time')).rows[0]!.n).toBe(0);
    const again = await db.query<{ v: number }>('SELECT $1::int AS v', [7], { prepare: false });
    expect(again.rows).toEqual([{ v: 7 }]);
  });
});
