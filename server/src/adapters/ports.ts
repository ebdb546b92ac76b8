/**
 * The small interfaces behind which everything Redis does for the platform lives.
 * Each has a Redis adapter (production, several instances) and an in-process one
 * (embedded default, one instance); both pass the shared contract suite in
 * `contract.suite.ts`. Business code depends on these, never on a driver.
 */
import type { Role } from '@delivery/contracts';

export interface SessionData {
  userId: string;
  role: Role;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds; readers treat the session as gone from then on, whatever the TTL. */
  expiresAt: number;
}

/** The fast path in front of the `sessions` table, which stays the source of truth. */
export interface SessionStore {
  /** Stores a session under the hash of its token; it disappears after `ttlMs`. */
  create(tokenHash: string, session: SessionData, ttlMs: number): Promise<void>;
  get(tokenHash: string): Promise<SessionData | null>;
  delete(tokenHash: string): Promise<void>;
  /** Revokes every session of one user (logout everywhere, password change). */
  deleteAllForUser(userId: string): Promise<number>;
}

export interface GeoPoint {
  lat: number;
  lng: number;
}

export interface GeoEntry extends GeoPoint {
  /** Epoch milliseconds of the position's recording time. */
  at: number;
}

export interface GeoHit extends GeoEntry {
  id: string;
  distanceKm: number;
}

export interface GeoIndex {
  /**
   * Stores the position of `id`, last write wins by `at`: an update older than the stored
   * one is ignored and `false` returned. Entries expire `ttlMs` after their last update, or
   * up to 1/60 of it later (the Redis index renews a deadline once per 1/60 of the TTL).
   */
  set(id: string, entry: GeoEntry, ttlMs: number): Promise<boolean>;
  get(id: string): Promise<GeoEntry | null>;
  remove(id: string): Promise<void>;
  /** Entries within `radiusKm` of `center`, nearest first, at most `limit`. */
  search(center: GeoPoint, radiusKm: number, limit: number): Promise<GeoHit[]>;
  size(): Promise<number>;
}

export type BusHandler = (message: string) => void;

export interface Bus {
  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribes `handler` to `channel`; resolves once messages published afterwards are
   * delivered. Channels are reference counted: the returned function removes this handler
   * and drops the underlying subscription when no handler is left.
   */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
}

export interface LoggedEvent {
  /** Increases strictly within one stream; compare with `compareEventIds`. */
  id: string;
  payload: string;
}

export interface EventLog {
  /**
   * Appends to `stream`, keeping at least `retentionMs` of history, and returns the new id.
   * `replaces` names an earlier entry the new one supersedes (a snapshot that makes the last
   * one worthless): it is deleted in the same step, so the log holds one of them, not an
   * hour's worth.
   */
  append(
    stream: string,
    payload: string,
    retentionMs: number,
    options?: { replaces?: string },
  ): Promise<string>;
  /** Events after `afterId` (all retained events when null), oldest first, at most `limit`. */
  readAfter(stream: string, afterId: string | null, limit: number): Promise<LoggedEvent[]>;
}

export interface LeaseManager {
  /** Takes the lease, or renews it when `holder` already has it. False when another holds it. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` still has it. */
  release(name: string, holder: string): Promise<void>;
  holder(name: string): Promise<string | null>;
}

export interface RateWindow {
  /** Hits counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetInMs: number;
}

export interface RateLimiter {
  /** Counts one hit on `key` in a fixed window of `windowMs` that starts with its first hit. */
  hit(key: string, windowMs: number): Promise<RateWindow>;
}

export interface Cache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Everything the platform keeps outside PostgreSQL, as one bundle. */
export interface KeyValueAdapters {
  kind: 'redis' | 'memory';
  sessions: SessionStore;
  geo: GeoIndex;
  bus: Bus;
  events: EventLog;
  leases: LeaseManager;
  cache: Cache;
  rateLimiter: RateLimiter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Orders event ids of the form `<ms>-<seq>` (Redis stream ids and the in-process ones). */
export function compareEventIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}
