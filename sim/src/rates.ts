import type { Rng } from './rng.ts';

/**
 * Arrivals of a Poisson process: `perMinute` on average, with exponential gaps, so orders come
 * in irregular bursts like real ones instead of a metronome.
 */
export class PoissonArrivals {
  constructor(
    private readonly perMinute: number,
    private readonly rng: Rng,
  ) {}

  /** Milliseconds until the next arrival (Infinity for a rate of zero). */
  nextGapMs(): number {
    if (this.perMinute <= 0) return Number.POSITIVE_INFINITY;
    return this.rng.exponential(60_000 / this.perMinute);
  }

  /** How many arrivals fall into `durationMs` (simulated, no waiting). */
  countWithin(durationMs: number): number {
    let t = this.nextGapMs();
    let n = 0;
    while (t <= durationMs) {
      n += 1;
      t += this.nextGapMs();
    }
    return n;
  }
}

/** Preparation time with noise: log-normal around the store's average, never under a minute. */
export function prepMinutes(rng: Rng, avgMinutes: number): number {
  const sigma = 0.3;
  const factor = Math.exp(rng.normal(-(sigma * sigma) / 2, sigma));
  return Math.max(1, avgMinutes * factor);
}
