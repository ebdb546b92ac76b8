import type { Clock } from '../platform/clock.ts';
import { TtlMap } from '../platform/ttl-map.ts';

/** How values are read: one key per call, or the keys wanted in a short window together. */
export type CacheLoader<T> =
  | {
      /** Reads the value on a miss; concurrent misses of one key share one call. */
      load: (key: string) => Promise<T>;
      batch?: undefined;
    }
  | {
      load?: undefined;
      /**
       * Reads many keys in one call, answering in their order. The keys to read are gathered
       * for up to `windowMs` after a miss, or `refreshWindowMs` after a background refresh
       * (nobody waits on those), or until there are `max`: a steady trickle of misses and
       * refreshes costs one query per window instead of one per key.
       */
      batch: BatchSettings<T>;
    };

export interface BatchSettings<T> {
  loadMany: (keys: string[]) => Promise<T[]>;
  windowMs: number;
  refreshWindowMs?: number;
  max: number;
}

export type LocalCacheOptions<T> = CacheSettings<T> & CacheLoader<T>;

export interface CacheSettings<T> {
  /** Longest an entry lives; each one lives `ttlMs` minus a random part of `jitterMs`. */
  ttlMs: number;
  /** Spreads expiries, so entries filled at one moment do not all refill at one moment. */
  jitterMs: number;
  /** Beyond this many entries the oldest filled go first. */
  maxEntries: number;
  clock: Clock;
  /**
   * An entry older than this is still answered (by `get` and `peek`) but refreshed in the
   * background, so a key read steadily never misses. Unset: entries are only refilled on a miss.
   */
  refreshAfterMs?: number;
  /** Values for which this answers false are returned but not kept (default: all are kept). */
  keep?: (value: T) => boolean;
  random?: () => number;
}

interface Entry<T> {
  value: T;
  refreshAt: number;
}

interface Flight<T> {
  promise: Promise<T>;
  /** Set by an invalidation during the load: its answer may predate the change, so not kept. */
  stale: boolean;
}

interface Queued<T> {
  key: string;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * A bounded, in-process read-through cache with a TTL, for facts read on every location update.
 * Misses are single-flight; `invalidate` also voids a load in progress, so a read that started
 * before a change cannot put the old value back after it. With `batch`, the loads of many keys
 * share one query; with `refreshAfterMs`, keys in steady use are refreshed before they expire.
 */
export class LocalCache<T> {
  private readonly entries: TtlMap<string, Entry<T>>;
  private readonly flights = new Map<string, Flight<T>>();
  private readonly random: () => number;
  private queued: Array<Queued<T>> = [];
  private batchTimer: NodeJS.Timeout | undefined;
  /** When the batch timer fires (performance.now() time). */
  private batchDue = Number.POSITIVE_INFINITY;

  constructor(private readonly opts: LocalCacheOptions<T>) {
    this.random = opts.random ?? Math.random;
    this.entries = new TtlMap(opts.clock, undefined, opts.maxEntries);
  }

  /**
   * The cached value without waiting for a load: undefined when missing or expired. An entry
   * due for refresh is answered and refreshed in the background.
   */
  peek(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.opts.clock.now() >= entry.refreshAt) {
      // Once per fill: if this refresh fails, the entry serves out its TTL, then a miss loads.
      entry.refreshAt = Number.POSITIVE_INFINITY;
      void this.refresh(key, true);
    }
    return entry.value;
  }

  get(key: string): Promise<T> {
    const cached = this.peek(key);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.refresh(key);
  }

  /**
   * Keeps a value this process knows to be current (it has just written it), so the next read
   * needs no load. A load in progress is voided as by `invalidate`.
   */
  set(key: string, value: T): void {
    this.invalidate(key);
    if (this.opts.keep?.(value) ?? true) this.store(key, value);
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

  /** Starts (or joins) the load of a key; its answer is kept unless an invalidation overtook it. */
  private refresh(key: string, background = false): Promise<T> {
    const running = this.flights.get(key);
    if (running) return running.promise;
    const flight: Flight<T> = { promise: this.loadOne(key, background), stale: false };
    this.flights.set(key, flight);
    const done = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    flight.promise.then((value) => {
      done();
      if (flight.stale) return;
      if (this.opts.keep?.(value) ?? true) this.store(key, value);
      else this.entries.delete(key); // a refresh found it gone: the old value goes too
    }, done);
    return flight.promise;
  }

  private loadOne(key: string, background: boolean): Promise<T> {
    const batch = this.opts.batch;
    if (!batch) return this.opts.load(key);
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ key, resolve, reject });
      if (this.queued.length >= batch.max) return this.flush();
      const wait = background ? (batch.refreshWindowMs ?? batch.windowMs) : batch.windowMs;
      const due = performance.now() + wait;
      if (due >= this.batchDue) return;
      clearTimeout(this.batchTimer);
      this.batchDue = due;
      this.batchTimer = setTimeout(() => this.flush(), wait);
      this.batchTimer.unref(); // a refresh nobody waits for does not hold a stopping process
    });
  }

  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.batchDue = Number.POSITIVE_INFINITY;
    const queued = this.queued;
    this.queued = [];
    if (queued.length === 0) return;
    this.opts.batch!.loadMany(queued.map((q) => q.key)).then(
      (values) => {
        queued.forEach((q, i) => {
          if (i < values.length) q.resolve(values[i]!);
          else q.reject(new Error(`loadMany answered ${values.length} of ${queued.length} keys`));
        });
      },
      (err: unknown) => {
        for (const q of queued) q.reject(err);
      },
    );
  }

  private store(key: string, value: T): void {
    const ttl = this.opts.ttlMs - this.random() * this.opts.jitterMs;
    // The refresh comes a fixed margin before the (jittered) expiry, so refreshes spread too.
    const margin = this.opts.ttlMs - (this.opts.refreshAfterMs ?? this.opts.ttlMs);
    const refreshAt = this.opts.clock.now() + Math.max(ttl - Math.max(0, margin), ttl / 2);
    this.entries.set(key, { value, refreshAt }, ttl);
  }
}
