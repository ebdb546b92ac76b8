import { createHash } from 'node:crypto';
import type { Db, Tx } from '../db/db.ts';
import { DomainError } from '../errors.ts';

/** Keys live 24 h (API.md); after that the same key is a new request. */
const KEY_TTL_HOURS = 24;

export interface StoredResponse<T = unknown> {
  status: number;
  body: T;
  replayed: boolean;
}

export interface IdempotentRequest {
  userId: string;
  key: string;
  scope: string;
  body: unknown;
}

interface KeyRow {
  request_hash: string;
  status: 'pending' | 'completed';
  response_status: number | null;
  response_body: unknown;
  expired: boolean;
}

/** Stable hash of a request body: object keys sorted, so field order does not matter. */
export function requestHash(scope: string, body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(scope)
    .update('\n')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;

/** What the work answers; `pending` holds statements it left in flight (they commit with it). */
export interface WorkResult<T> {
  status: number;
  body: T;
  pending?: Promise<unknown>;
}

/**
 * Exactly-once mutations keyed by (user, key). The key's claim, the work and the stored response
 * are one transaction: a transaction-level advisory lock on (user, key) says "a live request is
 * running this key" (a concurrent duplicate gets 409 at once, on any instance), and the key row is
 * written with the response when the work commits. A request that dies mid-way (process killed,
 * database restarted) rolls back and releases the lock with its connection, so it leaves neither
 * an order nor a claim behind: the client's retry with the same key runs at once.
 */
export function createIdempotencyService({ db }: { db: Db }) {
  return {
    /**
     * Runs `work` once per key. `prepare` sends the work's reads with the key's claim, before it
     * is known whether the work will run (a replay or a refusal leaves them unread); `work` gets
     * their promise.
     */
    async run<T, P = undefined>(
      req: IdempotentRequest,
      work: (tx: Tx, prepared: Promise<P>) => Promise<WorkResult<T>>,
      prepare: (tx: Tx) => Promise<P> = () => Promise.resolve(undefined as P),
    ): Promise<StoredResponse<T>> {
      const hash = requestHash(req.scope, req.body);
      return db.transaction(async (tx): Promise<StoredResponse<T>> => {
        // The lock and the look-up go out together (and the work's reads behind them); the row
        // counts only once the lock is held.
        const claim = Promise.all([
          tx.query<{ ok: boolean }>(
            `SELECT pg_try_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 72114003)) AS ok`,
            [req.userId, req.key],
          ),
          tx.query<KeyRow>(
            `SELECT request_hash, status, response_status, response_body,
                    created_at < now() - make_interval(hours => $3) AS expired
             FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
            [req.userId, req.key, KEY_TTL_HOURS],
          ),
        ]);
        const prepared = prepare(tx);
        prepared.catch(() => undefined); // unread when the key refuses or replays
        const [{ rows: lock }, { rows }] = await claim;
        if (!lock[0]?.ok) {
          throw new DomainError(
            'IDEMPOTENCY_IN_PROGRESS',
            'The first request with this key is still running',
          );
        }
        const row = rows[0];
        // A 'pending' row was left by an earlier version whose request died: it is free.
        if (row && row.status === 'completed' && !row.expired) {
          if (row.request_hash !== hash) {
            throw new DomainError(
              'IDEMPOTENCY_KEY_REUSED',
              'This idempotency key was already used with a different request body',
            );
          }
          return {
            status: row.response_status ?? 200,
            body: row.response_body as T,
            replayed: true,
          };
        }
        // Failed work throws and rolls back: a failed request is not remembered.
        const out = await work(tx, prepared);
        const stored = tx.query(
          `INSERT INTO idempotency_keys
             (user_id, key, scope, request_hash, status, response_status, response_body, created_at, completed_at)
           VALUES ($1, $2, $3, $4, 'completed', $5, $6, now(), now())
           ON CONFLICT (user_id, key) DO UPDATE SET scope = EXCLUDED.scope,
             request_hash = EXCLUDED.request_hash, status = 'completed',
             response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
             created_at = now(), completed_at = now()`,
          [req.userId, req.key, req.scope, hash, out.status, JSON.stringify(out.body)],
        );
        return tx.commitWith(
          Promise.all([stored, out.pending]).then(() => ({
            status: out.status,
            body: out.body,
            replayed: false,
          })),
        );
      });
    },
  };
}
