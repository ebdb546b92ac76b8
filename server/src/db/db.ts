/**
 * The database port: PostgreSQL through `pg` in production, PGlite in process by default.
 * Repositories receive a `Queryable`, so the same SQL runs inside or outside a transaction.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * `false` plans the statement on every call, with the values it is given, instead of once per
   * connection (PostgreSQL; PGlite always plans anew). For a hot statement over tables whose
   * contents swing: a plan cached while `driver_offers` was empty scanned every pending offer
   * for each of a hundred drivers, 10 ms a call, until the connection closed.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<T>>;
}

export interface Tx extends Queryable {
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` once the transaction has committed; never when it rolls back. */
  afterCommit(fn: () => unknown): void;
  /**
   * Ends the transaction with `last`, a statement already sent (usually the read that builds the
   * answer): COMMIT goes out right behind it instead of after its answer, one round trip fewer
   * while the connection is held. Resolves to what `last` resolves to once the commit succeeded;
   * if `last` fails, the transaction rolls back and its error is thrown. Call it as
   * `return tx.commitWith(...)`: no statement may follow.
   */
  commitWith<R>(last: Promise<R>): Promise<R>;
}

export interface Db extends Queryable {
  kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Connections of this process's pool (PostgreSQL only; PGlite has one in-process session). */
  poolStats?(): { total: number; idle: number; waiting: number };
}

export type AfterCommitHooks = Array<() => unknown>;

/** Runs after-commit hooks without letting one failure stop the others or the caller. */
export function runAfterCommit(hooks: AfterCommitHooks, onError: (err: unknown) => void): void {
  for (const hook of hooks) {
    try {
      const result = hook();
      if (result instanceof Promise) result.catch(onError);
    } catch (err) {
      onError(err);
    }
  }
}
