import { systemClock, type Clock } from '../../platform/clock.ts';
import type { KeyValueAdapters } from '../ports.ts';
import { MemoryBus } from './bus.ts';
import { MemoryCache } from './cache.ts';
import { MemoryEventLog } from './events.ts';
import { MemoryGeoIndex } from './geo.ts';
import { MemoryLeaseManager } from './leases.ts';
import { MemoryRateLimiter } from './rate-limiter.ts';
import { MemorySessionStore } from './sessions.ts';

export interface MemoryAdapterOptions {
  /** Drives every TTL and event id; tests pass a ManualClock. */
  clock?: Clock;
  /** Receives exceptions thrown by bus handlers (one failing handler must not stop the rest). */
  onError?: (err: unknown) => void;
}

/** The single-instance implementation: everything lives in this process and no timer runs. */
export function createMemoryAdapters(opts: MemoryAdapterOptions = {}): KeyValueAdapters {
  const clock = opts.clock ?? systemClock;
  const onError = opts.onError ?? ((err: unknown) => console.error('bus handler failed', err));
  const sessions = new MemorySessionStore(clock);
  const geo = new MemoryGeoIndex(clock);
  const bus = new MemoryBus(onError);
  const events = new MemoryEventLog(clock);
  const leases = new MemoryLeaseManager(clock);
  const cache = new MemoryCache(clock);
  const rateLimiter = new MemoryRateLimiter(clock);
  return {
    kind: 'memory',
    sessions,
    geo,
    bus,
    events,
    leases,
    cache,
    rateLimiter,
    ping: () => Promise.resolve(),
    close: () => {
      for (const part of [sessions, geo, bus, events, leases, cache, rateLimiter]) part.clear();
      return Promise.resolve();
    },
  };
}
