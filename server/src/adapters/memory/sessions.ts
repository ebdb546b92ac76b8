import type { Clock } from '../../platform/clock.ts';
import type { SessionData, SessionStore } from '../ports.ts';
import { TtlMap } from '../../platform/ttl-map.ts';

export class MemorySessionStore implements SessionStore {
  private readonly byUser = new Map<string, Set<string>>();
  private readonly sessions: TtlMap<string, SessionData>;

  constructor(clock: Clock) {
    this.sessions = new TtlMap(clock, (hash, s) => this.unindex(s.userId, hash));
  }

  create(tokenHash: string, session: SessionData, ttlMs: number): Promise<void> {
    const { userId, role, createdAt, expiresAt } = session;
    this.sessions.set(tokenHash, { userId, role, createdAt, expiresAt }, ttlMs);
    const hashes = this.byUser.get(userId) ?? new Set<string>();
    hashes.add(tokenHash);
    this.byUser.set(userId, hashes);
    return Promise.resolve();
  }

  get(tokenHash: string): Promise<SessionData | null> {
    const s = this.sessions.get(tokenHash);
    // A copy, so callers cannot mutate the stored session (as with a Redis round trip).
    return Promise.resolve(s ? { ...s } : null);
  }

  delete(tokenHash: string): Promise<void> {
    const s = this.sessions.delete(tokenHash);
    if (s) this.unindex(s.userId, tokenHash);
    return Promise.resolve();
  }

  deleteAllForUser(userId: string): Promise<number> {
    let revoked = 0;
    for (const hash of this.byUser.get(userId) ?? []) {
      if (this.sessions.delete(hash)) revoked++;
    }
    this.byUser.delete(userId);
    return Promise.resolve(revoked);
  }

  clear(): void {
    this.sessions.clear();
    this.byUser.clear();
  }

  private unindex(userId: string, tokenHash: string): void {
    const hashes = this.byUser.get(userId);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) this.byUser.delete(userId);
  }
}
