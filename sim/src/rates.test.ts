import { describe, expect, it } from 'vitest';
import { PoissonArrivals, prepMinutes } from './rates.ts';
import { Rng } from './rng.ts';

describe('PoissonArrivals', () => {
  it.each([1, 4, 35 * 60])(
    'places %d orders per minute over a simulated hour, within 4σ',
    (rate) => {
      for (let seed = 0; seed < 5; seed++) {
        const n = new PoissonArrivals(rate, new Rng(`rate-${rate}-${seed}`)).countWithin(3_600_000);
        const expected = rate * 60;
        expect(Math.abs(n - expected)).toBeLessThanOrEqual(4 * Math.sqrt(expected));
      }
    },
  );

  it('comes in irregular gaps (exponential: about as spread as they are long)', () => {
    const a = new PoissonArrivals(60, new Rng('gaps'));
    const gaps = Array.from({ length: 20_000 }, () => a.nextGapMs());
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeGreaterThan(950);
    expect(mean).toBeLessThan(1_050);
    expect(sd / mean).toBeGreaterThan(0.9);
    expect(sd / mean).toBeLessThan(1.1);
  });

  it('places nothing at rate zero', () => {
    expect(new PoissonArrivals(0, new Rng('zero')).countWithin(3_600_000)).toBe(0);
  });
});

describe('prepMinutes', () => {
  it('varies around the store average and never drops under a minute', () => {
    const rng = new Rng('prep');
    const xs = Array.from({ length: 10_000 }, () => prepMinutes(rng, 12));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(11.4);
    expect(mean).toBeLessThan(12.6);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1);
    expect(new Set(xs.map((x) => Math.round(x))).size).toBeGreaterThan(5);
  });
});
