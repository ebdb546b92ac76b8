import pg from 'pg';
import { runAfterCommit, type AfterCommitHooks, type Db, type QueryResult, type Tx } from './db.ts';

// timestamptz stays a Date (pg's default); bigint counts arrive as text, so parse them.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const MAX_ATTEMPTS = 3;

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  onAfterCommitError: (err: unknown) => void;
  /** An idle pooled connection failed (e.g. the server restarted); the pool replaces it. */
  onPoolError?: (err: unknown) => void;
}

export function createPostgresDb(opts: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', opts.onPoolError ?? opts.onAfterCommitError);

  async function query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    const res = await pool.query(sql, params);
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
      client.off('error', onError);
      client.release(broken);
    };
    const hooks: AfterCommitHooks = [];
    let result: T;
    try {
      await client.query('BEGIN');
      const tx: Tx = {
        async query<R>(sql: string, params?: unknown[]) {
          const res = await client.query(sql, params);
          return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
        },
        async exec(sql: string) {
          await client.query(sql);
        },
        afterCommit: (hook) => hooks.push(hook),
      };
      result = await fn(tx);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken ??= rollbackError; // the connection is unusable: do not pool it
      });
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
     * Runs `fn` in a transaction. A deadlock or serialization failure rolls everything back, so
     * the whole function is safely retried (a few times, after a short random pause).
     */
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await attemptTransaction(fn);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (attempt >= MAX_ATTEMPTS || (code !== '40P01' && code !== '40001')) throw err;
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
        }
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
