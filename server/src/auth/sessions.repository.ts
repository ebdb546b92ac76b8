import type { Role } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

export interface StoredSession {
  userId: string;
  role: Role;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
}

interface SessionRow {
  user_id: string;
  role: Role;
  created_at: Date;
  expires_at: Date;
}

export async function insertSession(
  db: Queryable,
  tokenHash: string,
  s: StoredSession,
): Promise<void> {
  await db.query(
    `INSERT INTO sessions (token_hash, user_id, role, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [tokenHash, s.userId, s.role, new Date(s.createdAt), new Date(s.expiresAt)],
  );
}

/** The session if it is neither revoked nor expired at `now` (the caller's clock). */
export async function findLiveSession(
  db: Queryable,
  tokenHash: string,
  now: number,
): Promise<StoredSession | null> {
  const { rows } = await db.query<SessionRow>(
    `SELECT user_id, role, created_at, expires_at FROM sessions
     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2`,
    [tokenHash, new Date(now)],
  );
  const row = rows[0];
  return row
    ? {
        userId: row.user_id,
        role: row.role,
        createdAt: row.created_at.getTime(),
        expiresAt: row.expires_at.getTime(),
      }
    : null;
}

export async function revokeSession(db: Queryable, tokenHash: string, now: number) {
  await db.query(
    'UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL',
    [tokenHash, new Date(now)],
  );
}

/** Revokes every live session of the user; returns the hashes it revoked. */
export async function revokeUserSessions(
  db: Queryable,
  userId: string,
  now: number,
): Promise<string[]> {
  const { rows } = await db.query<{ token_hash: string }>(
    `UPDATE sessions SET revoked_at = $2
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
     RETURNING token_hash`,
    [userId, new Date(now)],
  );
  return rows.map((r) => r.token_hash);
}

/** Deletes sessions that expired or were revoked before `before` (retention: design, 24 h). */
export async function deleteEndedSessions(db: Queryable, before: number): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1',
    [new Date(before)],
  );
  return rowCount;
}
