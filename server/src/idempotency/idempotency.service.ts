import { createHash } from 'node:crypto';
import type { Db, Tx } from '../db/db.ts';
import { DomainError } from '../errors.ts';

/** A claim older than this, still pending, belongs to a request that died: it may be retaken. */
const STALE_CLAIM_SECONDS = 60;
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
  fresh: boolean;
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

/**
 * Exactly-once mutations keyed by (user, key). A request first claims its key (the primary key
 * decides between concurrent duplicates), then does its work and records the response in the
 * same transaction, so "an order exists" and "its key is completed" are never apart.
 */
export function createIdempotencyService({ db }: { db: Db }) {
  async function claim(req: IdempotentRequest, hash: string): Promise<StoredResponse | null> {
    const inserted = await db.query(
      `INSERT INTO idempotency_keys (user_id, key, scope, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
      [req.userId, req.key, req.scope, hash],
    );
    if (inserted.rowCount === 1) return null;

    const { rows } = await db.query<KeyRow>(
      `SELECT request_hash, status, response_status, response_body,
              created_at > now() - make_interval(secs => $3) AS fresh,
              created_at < now() - make_interval(hours => $4) AS expired
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [req.userId, req.key, STALE_CLAIM_SECONDS, KEY_TTL_HOURS],
    );
    const row = rows[0];
    if (!row) return claim(req, hash); // released between our insert and read: try again
    if (row.expired || (row.status === 'pending' && !row.fresh)) {
      const retaken = await db.query(
        `UPDATE idempotency_keys SET request_hash = $3, scope = $4, status = 'pending',
           response_status = NULL, response_body = NULL, created_at = now(), completed_at = NULL
         WHERE user_id = $1 AND key = $2 AND request_hash = $5 AND status = $6
           AND created_at < now() - make_interval(secs => $7)`,
        [
          req.userId,
          req.key,
          hash,
          req.scope,
          row.request_hash,
          row.status,
          row.expired ? KEY_TTL_HOURS * 3600 : STALE_CLAIM_SECONDS,
        ],
      );
      if (retaken.rowCount === 1) return null;
      return claim(req, hash);
    }
    if (row.request_hash !== hash) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This idempotency key was already used with a different request body',
      );
    }
    if (row.status === 'pending') {
      throw new DomainError(
        'IDEMPOTENCY_IN_PROGRESS',
        'The first request with this key is still running',
      );
    }
    return { status: row.response_status ?? 200, body: row.response_body, replayed: true };
  }

  return {
    async run<T>(
      req: IdempotentRequest,
      work: (tx: Tx) => Promise<{ status: number; body: T }>,
    ): Promise<StoredResponse<T>> {
      const hash = requestHash(req.scope, req.body);
      const stored = await claim(req, hash);
      if (stored) return stored as StoredResponse<T>;
      try {
        const result = await db.transaction(async (tx) => {
          const out = await work(tx);
          await tx.query(
            `UPDATE idempotency_keys SET status = 'completed', response_status = $3,
               response_body = $4, completed_at = now()
             WHERE user_id = $1 AND key = $2`,
            [req.userId, req.key, out.status, JSON.stringify(out.body)],
          );
          return out;
        });
        return { ...result, replayed: false };
      } catch (err) {
        // Failed requests are not remembered: the client may fix the cause and retry the key.
        await db
          .query(
            `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'pending'`,
            [req.userId, req.key],
          )
          .catch(() => undefined);
        throw err;
      }
    },
  };
}
