import type { LoginBody, RegisterBody, Role, User } from '@delivery/contracts';
import type { SessionData, SessionStore } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { DomainError } from '../errors.ts';
import type { Clock } from '../platform/clock.ts';
import type { PasswordHasher } from './passwords.ts';
import { hashToken, newSessionToken } from './tokens.ts';
import {
  findUserByEmail,
  findUserById,
  insertDriverProfile,
  insertUser,
} from './users.repository.ts';

export interface Session extends SessionData {
  tokenHash: string;
}

export interface AuthServiceDeps {
  db: Db;
  sessions: SessionStore;
  hasher: PasswordHasher;
  clock: Clock;
  sessionTtlMs: number;
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService({ db, sessions, hasher, clock, sessionTtlMs }: AuthServiceDeps) {
  async function openSession(userId: string, role: Role): Promise<string> {
    const token = newSessionToken();
    await sessions.create(hashToken(token), { userId, role, createdAt: clock.now() }, sessionTtlMs);
    return token;
  }

  return {
    sessionTtlMs,

    /** Creates a customer, driver or merchant account (admins come from seed or CLI only). */
    async register(body: RegisterBody): Promise<{ user: User; token: string }> {
      const passwordHash = await hasher.hash(body.password);
      const user = await db.transaction(async (tx) => {
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
        return created;
      });
      return { user, token: await openSession(user.id, user.role) };
    },

    async login(body: LoginBody): Promise<{ user: User; token: string }> {
      const found = await findUserByEmail(db, body.email);
      const ok = await hasher.verify(found?.passwordHash ?? null, body.password);
      if (!found || !ok) throw new DomainError('UNAUTHENTICATED', 'Email or password is wrong');
      return { user: found.user, token: await openSession(found.user.id, found.user.role) };
    },

    async logout(session: Session): Promise<void> {
      await sessions.delete(session.tokenHash);
    },

    /** The session a token stands for, or null when it is unknown, expired or revoked. */
    async resolve(token: string): Promise<Session | null> {
      const tokenHash = hashToken(token);
      const data = await sessions.get(tokenHash);
      return data ? { ...data, tokenHash } : null;
    },

    async me(session: Session): Promise<User> {
      const user = await findUserById(db, session.userId);
      if (!user) throw new DomainError('UNAUTHENTICATED', 'Your account no longer exists');
      return user;
    },
  };
}
