import { PGlite, types } from '@electric-sql/pglite';
import { runAfterCommit, type AfterCommitHooks, type Db, type QueryResult, type Tx } from './db.ts';

export interface PgliteOptions {
  /** A directory to keep data in, or undefined for memory only (tests). */
  dataDir?: string;
  onAfterCommitError: (err: unknown) => void;
}

/**
 * PostgreSQL in process. PGlite has one connection and runs transactions one at a time,
 * which makes row locks and SKIP LOCKED trivially true; the SQL is the same as in production.
 */
export async function createPgliteDb(opts: PgliteOptions): Promise<Db> {
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    parsers: { [types.INT8]: (v: string) => Number(v) },
  });

  const wrap = <T>(res: { rows: unknown[]; affectedRows?: number }): QueryResult<T> => ({
    rows: res.rows as T[],
    rowCount: Math.max(res.rows.length, res.affectedRows ?? 0),
  });

  return {
    kind: 'pglite',
    async query<T>(sql: string, params?: unknown[]) {
      return wrap<T>(await db.query(sql, params));
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      const hooks: AfterCommitHooks = [];
      // Statements a caller sends at once (e.g. listeners run side by side) take turns, as they
      // would on one PostgreSQL connection.
      let turn: Promise<unknown> = Promise.resolve();
      const inTurn = <X>(run: () => Promise<X>): Promise<X> => {
        const next = turn.then(run);
        turn = next.catch(() => undefined);
        return next;
      };
      const result = await db.transaction(async (inner) =>
        fn({
          async query<R>(sql: string, params?: unknown[]) {
            return wrap<R>(await inTurn(() => inner.query(sql, params)));
          },
          async exec(sql: string) {
            await inTurn(() => inner.exec(sql));
          },
          afterCommit: (hook) => hooks.push(hook),
          // One session in process: nothing to gain by sending COMMIT early.
          commitWith: (last) => last,
        }),
      );
      runAfterCommit(hooks, opts.onAfterCommitError);
      return result;
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await db.close();
    },
  };
}
