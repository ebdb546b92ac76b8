import type { LoginBody, RegisterBody, Role, User } from '@delivery/contracts';
import type { Logger } from 'pino';
import type { SessionData, SessionStore } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { DomainError } from '../errors.ts';
import type { Clock } from '../platform/clock.ts';
import type { PasswordHasher } from './passwords.ts';
import {
  findLiveSession,
  insertSession,
  revokeSession,
  revokeUserSessions,
} from './sessions.repository.ts';
import { hashToken, newSessionToken } from './tokens.ts';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  insertDriverProfile,
} from './users.repository.ts';

export interface Session extends SessionData {
  tokenHash: string;
}

export interface AuthServiceDeps {
  db: Db;
  /** The fast path; the `sessions` table is the truth, so losing the store signs nobody out. */
  sessions: SessionStore;
  hasher: PasswordHasher;
  clock: Clock;
  sessionTtlMs: number;
  /** A cached session is re-read from PostgreSQL at least this often (bounds a missed revoke). */
  sessionCacheTtlMs: number;
  log: Logger;
}

/** After a session-store failure, skip it this long rather than make every request wait on it. */
const STORE_BACKOFF_MS = 5_000;

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService({
  db,
  sessions,
  hasher,
  clock,
  sessionTtlMs,
  sessionCacheTtlMs,
  log,
}: AuthServiceDeps) {
  let storeDownUntil = 0;

  /**
   * Runs a session-store call; a failure is logged and answers `fallback` (PostgreSQL decides).
   * Reads and fills are skipped for a while after a failure; deletes are always attempted.
   */
  async function store<T>(what: string, call: () => Promise<T>, fallback: T): Promise<T> {
    if (what !== 'delete' && clock.now() < storeDownUntil) return fallback;
    try {
      return await call();
    } catch (err) {
      storeDownUntil = clock.now() + STORE_BACKOFF_MS;
      log.warn({ err, op: what }, 'session store unavailable; using PostgreSQL only');
      return fallback;
    }
  }

  function cache(tokenHash: string, data: SessionData): Promise<void> {
    const ttl = Math.min(data.expiresAt - clock.now(), sessionCacheTtlMs);
    if (ttl <= 0) return Promise.resolve();
    return store('create', () => sessions.create(tokenHash, data, ttl), undefined);
  }

  function newSession(userId: string, role: Role) {
    const token = newSessionToken();
    const now = clock.now();
    const data: SessionData = { userId, role, createdAt: now, expiresAt: now + sessionTtlMs };
    return { token, tokenHash: hashToken(token), data };
  }

  return {
    sessionTtlMs,

    /** Creates a customer, driver or merchant account (admins come from seed or CLI only). */
    async register(body: RegisterBody): Promise<{ user: User; token: string }> {
      const passwordHash = await hasher.hash(body.password);
      const { user, session } = await db.transaction(async (tx) => {
        const created = await insertUser(tx, {
          email: body.email,
          passwordHash,
          name: body.name,
          phone: body.phone ?? null,
          role: body.role,
        });
        if (!created)
          throw new DomainError('EMAIL_TAKEN', 'An account with this email already exists');
        if (body.role === 'driver') await insertDriverProfile(tx, created.id, body.vehicleType!);
        const opened = newSession(created.id, created.role);
        await insertSession(tx, opened.tokenHash, opened.data);
        return { user: created, session: opened };
      });
      await cache(session.tokenHash, session.data);
      return { user, token: session.token };
    },

    async login(body: LoginBody): Promise<{ user: User; token: string }> {
      const found = await findUserByEmail(db, body.email);
      const ok = await hasher.verify(found?.passwordHash ?? null, body.password);
      if (!found || !ok) throw new DomainError('UNAUTHENTICATED', 'Email or password is wrong');
      const session = newSession(found.user.id, found.user.role);
      await insertSession(db, session.tokenHash, session.data);
      await cache(session.tokenHash, session.data);
      return { user: found.user, token: session.token };
    },

    /** Revokes this session in PostgreSQL and drops it from the store: it ends at once. */
    async logout(session: Session): Promise<void> {
      await revokeSession(db, session.tokenHash, clock.now());
      await store('delete', () => sessions.delete(session.tokenHash), undefined);
    },

    /** Revokes every live session of the caller ("sign out everywhere"); returns how many. */
    async logoutAll(session: Session): Promise<number> {
      const hashes = await revokeUserSessions(db, session.userId, clock.now());
      await store(
        'delete',
        async () => {
          await sessions.deleteAllForUser(session.userId);
          await Promise.all(hashes.map((h) => sessions.delete(h)));
        },
        undefined,
      );
      return hashes.length;
    },

    /**
     * The session a token stands for, or null when it is unknown, expired or revoked. A store
     * hit answers at once; a miss (or a store that is down) reads PostgreSQL and refills the store.
     */
    async resolve(token: string): Promise<Session | null> {
      const tokenHash = hashToken(token);
      const now = clock.now();
      const hit = await store('get', () => sessions.get(tokenHash), null);
      if (hit) return hit.expiresAt > now ? { ...hit, tokenHash } : null;
      const stored = await findLiveSession(db, tokenHash, now);
      if (!stored) return null;
      await cache(tokenHash, stored);
      return { ...stored, tokenHash };
    },

    async me(session: Session): Promise<User> {
      const user = await findUserById(db, session.userId);
      if (!user) throw new DomainError('UNAUTHENTICATED', 'Your account no longer exists');
      return user;
    },
  };
}
