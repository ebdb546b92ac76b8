import type { Clock } from '../platform/clock.ts';
import { TtlMap } from '../platform/ttl-map.ts';

export interface LocalCacheOptions<T> {
  /** Longest an entry lives; each one lives `ttlMs` minus a random part of `jitterMs`. */
  ttlMs: number;
  /** Spreads expiries, so entries filled at one moment do not all refill at one moment. */
  jitterMs: number;
  /** Beyond this many entries the oldest filled go first. */
  maxEntries: number;
  clock: Clock;
  /** Reads the value on a miss; concurrent misses of one key share one call. */
  load: (key: string) => Promise<T>;
  /** Values for which this answers false are returned but not kept (default: all are kept). */
  keep?: (value: T) => boolean;
  random?: () => number;
}

interface Flight<T> {
  promise: Promise<T>;
  /** Set by an invalidation during the load: its answer may predate the change, so not kept. */
  stale: boolean;
}

/**
 * A bounded, in-process read-through cache with a TTL, for facts read on every location update.
 * Misses are single-flight; `invalidate` also voids a load in progress, so a read that started
 * before a change cannot put the old value back after it.
 */
export class LocalCache<T> {
  private readonly entries: TtlMap<string, T>;
  private readonly flights = new Map<string, Flight<T>>();
  private readonly random: () => number;

  constructor(private readonly opts: LocalCacheOptions<T>) {
    this.random = opts.random ?? Math.random;
    this.entries = new TtlMap(opts.clock, undefined, opts.maxEntries);
  }

  /** The cached value, or undefined when missing or expired (never loads). */
  peek(key: string): T | undefined {
    return this.entries.get(key);
  }

  get(key: string): Promise<T> {
    const cached = this.entries.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.flights.get(key);
    if (running) return running.promise;
    const flight: Flight<T> = { promise: this.opts.load(key), stale: false };
    this.flights.set(key, flight);
    const done = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    flight.promise.then((value) => {
      done();
      if (!flight.stale && (this.opts.keep?.(value) ?? true)) this.store(key, value);
    }, done);
    return flight.promise;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
    const flight = this.flights.get(key);
    if (flight) {
      flight.stale = true;
      this.flights.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
  }

  get size(): number {
    return this.entries.size();
  }

  private store(key: string, value: T): void {
    this.entries.set(key, value, this.opts.ttlMs - this.random() * this.opts.jitterMs);
  }
}
