import * as hdr from 'hdr-histogram-js';

/**
 * Latency histograms (HDR, 3 significant digits) and counters. Values are recorded in
 * microseconds so sub-millisecond acks keep their resolution; summaries report milliseconds.
 */
export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 24 * 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 'packed',
  });
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

const ms = (us: number) => Math.round(us / 10) / 100;

/** Percentiles in milliseconds (two decimals); nulls when nothing was recorded. */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) {
    return {
      count: 0,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
      p999: null,
      max: null,
      mean: null,
    };
  }
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(text: string): Histogram {
  return hdr.decodeFromCompressedBase64(text, 'packed', false);
}

/** Records a duration given in milliseconds. */
export function recordMs(h: Histogram, durationMs: number): void {
  h.recordValue(Math.max(1, Math.round(durationMs * 1000)));
}

export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Counters whose name starts with `prefix`, e.g. every `error.` kind. */
  sum(prefix: string): number {
    let total = 0;
    for (const [k, v] of this.values) if (k.startsWith(prefix)) total += v;
    return total;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  merge(other: Record<string, number>): void {
    for (const [k, v] of Object.entries(other)) this.inc(k, v);
  }
}
