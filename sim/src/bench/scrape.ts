/**
 * What the bench reads off a server's `/metrics` (Prometheus text): its event-loop delay since
 * the previous scrape, the cumulative buckets of its location-ingest histogram, and its
 * location reports by outcome.
 */
import type { LoopDelay } from './protocol.ts';

/** Cumulative count per upper bound (seconds; `Infinity` for `+Inf`). */
export type Buckets = Map<number, number>;

export interface ServerScrape {
  loop: LoopDelay | null;
  ingest: Buckets | null;
  /** Location reports so far by outcome (applied, stale, rejected, superseded); null: no answer. */
  outcomes: Map<string, number> | null;
}

const INGEST = 'delivery_location_ingest_duration_seconds_bucket';
const OUTCOMES = 'delivery_location_updates_total';

export function parseScrape(text: string): ServerScrape {
  const lag = (name: string) => {
    const m = new RegExp(`^delivery_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) * 10_000) / 10 : NaN;
  };
  const loop = { p50: lag('p50'), p99: lag('p99'), max: lag('max') };
  const ingest: Buckets = new Map();
  for (const m of text.matchAll(new RegExp(`^${INGEST}\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))) {
    ingest.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  const outcomes = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${OUTCOMES}\\{outcome="([^"]+)"\\} (\\S+)$`, 'gm'))) {
    outcomes.set(m[1]!, Number(m[2]));
  }
  return {
    loop: Object.values(loop).every(Number.isFinite) ? loop : null,
    ingest: ingest.size ? ingest : null,
    // None yet is a count too (a labelled counter shows nothing until first counted).
    outcomes,
  };
}

/** The counts that came between two scrapes of several servers, key by key (bucket, outcome). */
export function countsBetween<K>(before: Array<Map<K, number>>, after: Array<Map<K, number>>) {
  const out = new Map<K, number>();
  const add = (b: Map<K, number>, sign: number) => {
    for (const [key, n] of b) out.set(key, (out.get(key) ?? 0) + sign * n);
  };
  for (const b of after) add(b, 1);
  for (const b of before) add(b, -1);
  return out;
}

/**
 * For each quantile, the upper bound (ms) of the first bucket holding it: "at most this".
 * Null when nothing was counted; Infinity when the quantile is above the highest bound.
 */
export function bucketQuantiles(
  buckets: Buckets,
  quantiles: number[],
): Record<string, number> | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total <= 0) return null;
  const out: Record<string, number> = {};
  for (const q of quantiles) {
    const le = bounds.find((b) => buckets.get(b)! >= q * total) ?? Infinity;
    out[`p${Math.round(q * 1000) / 10}`] = le === Infinity ? Infinity : Math.round(le * 1e4) / 10;
  }
  return out;
}

/**
 * What several servers counted between two scrapes, or null if any of them did not answer
 * one (an overloaded server may not): its counts since start would pass for the window's.
 */
export function countsInWindow<K>(
  before: ServerScrape[],
  after: ServerScrape[],
  read: (scrape: ServerScrape) => Map<K, number> | null,
): Map<K, number> | null {
  const [from, to] = [before.map(read), after.map(read)];
  const answered = (maps: Array<Map<K, number> | null>): maps is Array<Map<K, number>> =>
    maps.every((m) => m !== null);
  return answered(from) && answered(to) ? countsBetween(from, to) : null;
}
