import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import pg from 'pg';
import {
  runAfterCommit,
  type AfterCommitHooks,
  type Db,
  type QueryOptions,
  type QueryResult,
  type Tx,
} from './db.ts';

// timestamptz stays a Date (pg's default); bigint counts arrive as text, so parse them.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const MAX_ATTEMPTS = 3;
/** Distinct statements given a name; beyond this, statements run unnamed (parsed every time). */
const MAX_NAMED_STATEMENTS = 2_000;

/**
 * A schema change (a migration run by another instance) made a statement this connection
 * prepared earlier return other columns. PostgreSQL refuses to run it; a fresh connection,
 * which prepares it anew, succeeds.
 */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === '0A000' && String(e.message).includes('cached plan must not change');
}

/**
 * Returns `hold`, which keeps what is written to the client's socket until this turn of the
 * event loop is done (microtasks included), so that the statements of a flight leave in one
 * write instead of one each. On loopback a write does the receiving end's TCP work as well: in
 * an orders run the servers spent 12 % of their CPU writing statements.
 */
function flightWriter(client: pg.PoolClient): () => void {
  const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
  let holding = false;
  return () => {
    if (holding) return;
    holding = true;
    stream.cork();
    process.nextTick(() => {
      holding = false;
      stream.uncork();
    });
  };
}

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  /** Shown as `application_name` in `pg_stat_activity`, so each pool's sessions can be told apart. */
  applicationName?: string;
  onAfterCommitError: (err: unknown) => void;
  /** An idle pooled connection failed (e.g. the server restarted); the pool replaces it. */
  onPoolError?: (err: unknown) => void;
}

export function createPostgresDb(opts: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    // PostgreSQL cuts it at 63 bytes.
    application_name: opts.applicationName?.slice(0, 63),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // Queries are written without waiting for the previous answer; only transactions send
    // more than one at a time (BEGIN and COMMIT ride with their neighbours).
    pipeline: true,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', opts.onPoolError ?? opts.onAfterCommitError);

  /**
   * Parameterised statements are named after their text, so each connection parses and plans
   * one once and then reuses it (PostgreSQL's plan cache). Planning was most of PostgreSQL's
   * CPU under load: a look-up by id on the partitioned orders table plans for ~0.8 ms and
   * runs in 0.1 ms. Statements without parameters (scripts, DDL) stay unnamed, and so do those
   * the caller asks to have planned every time (`prepare: false`).
   */
  const names = new Map<string, string>();
  function statement(sql: string, params?: unknown[], options?: QueryOptions): pg.QueryConfig {
    if (!params) return { text: sql };
    if (options?.prepare === false) return { text: sql, values: params };
    let name = names.get(sql);
    if (name === undefined) {
      if (names.size >= MAX_NAMED_STATEMENTS) return { text: sql, values: params };
      name = `q${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
      names.set(sql, name);
    }
    return { name, text: sql, values: params };
  }

  async function query<T>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<T>> {
    let res: pg.QueryResult;
    try {
      res = await pool.query(statement(sql, params, options));
    } catch (err) {
      // The pool has already discarded the connection that failed: retry on another.
      if (!isStalePlan(err)) throw err;
      res = await pool.query({ text: sql, values: params });
    }
    return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
  }

  async function attemptTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A checked-out client has no pool listener: a connection the server drops between two
    // statements (restart, admin shutdown, network) would raise an unhandled 'error' event and
    // kill the process. Listen while it is ours; a broken client is destroyed, not pooled.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
      (opts.onPoolError ?? opts.onAfterCommitError)(err);
    };
    client.on('error', onError);
    const release = () => {
      over = true;
      client.off('error', onError);
      client.release(broken);
    };
    const hooks: AfterCommitHooks = [];
    // The client pipelines: BEGIN goes out with the transaction's first statement, and COMMIT
    // with its last when the caller ends it with `commitWith`. Each round trip saved is a wait
    // for PostgreSQL and for this process's event loop while the connection is held.
    const hold = flightWriter(client);
    hold();
    let begin: Promise<unknown> | undefined = client.query('BEGIN');
    let commit: Promise<pg.QueryResult> | undefined;
    let over = false;
    const send = (config: pg.QueryConfig | string): Promise<pg.QueryResult> => {
      // The connection may already serve someone else.
      if (over) throw new Error('The transaction is over');
      if (commit) throw new Error('The transaction has already been committed');
      hold();
      const sent = client.query(config);
      const begun = begin;
      begin = undefined;
      return begun ? Promise.all([begun, sent]).then(([, res]) => res) : sent;
    };
    const committed = (res: pg.QueryResult) => {
      // COMMIT in a failed transaction rolls it back without an error.
      if (res.command !== 'COMMIT') throw new Error('The transaction failed and was rolled back');
    };
    let result: T;
    try {
      const tx: Tx = {
        async query<R>(sql: string, params?: unknown[], options?: QueryOptions) {
          const res = await send(statement(sql, params, options));
          return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
        },
        async exec(sql: string) {
          await send(sql);
        },
        afterCommit: (hook) => hooks.push(hook),
        async commitWith<R>(last: Promise<R>) {
          const ending = send('COMMIT');
          commit = ending;
          const [value, res] = await Promise.all([last, ending]);
          committed(res);
          return value;
        },
      };
      result = await fn(tx);
      committed(await (commit ?? send('COMMIT')));
    } catch (err) {
      if (isStalePlan(err)) broken ??= err as Error; // its prepared statements are stale
      // Settled either way: BEGIN if nothing was sent after it, COMMIT if it was sent.
      await Promise.allSettled([begin, commit]);
      if (!commit) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken ??= rollbackError; // the connection is unusable: do not pool it
        });
      }
      release();
      throw err;
    }
    release();
    runAfterCommit(hooks, opts.onAfterCommitError);
    return result;
  }

  return {
    kind: 'postgres',
    query,
    /**
     * Runs `fn` in a transaction. A deadlock, a serialization failure or a statement gone stale
     * after a schema change rolls everything back, so the whole function is safely retried (a
     * few times, after a short random pause).
     */
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await attemptTransaction(fn);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          const retry = code === '40P01' || code === '40001' || isStalePlan(err);
          if (attempt >= MAX_ATTEMPTS || !retry) throw err;
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
        }
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async close() {
      await pool.end();
    },
  };
}
