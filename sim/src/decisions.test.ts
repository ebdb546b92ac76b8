import { describe, expect, it } from 'vitest';
import { decideOffer } from './decisions.ts';
import { Rng } from './rng.ts';

describe('decideOffer', () => {
  it.each([0, 0.3, 0.8, 1])('accepts with probability %d', (p) => {
    const rng = new Rng(`accept-${p}`);
    const policy = { acceptProbability: p, minDelayMs: 1_000, maxDelayMs: 5_000 };
    const n = 20_000;
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      const d = decideOffer(rng, policy);
      if (d.accept) accepted += 1;
      expect(d.delayMs).toBeGreaterThanOrEqual(1_000);
      expect(d.delayMs).toBeLessThan(5_000);
    }
    expect(Math.abs(accepted / n - p)).toBeLessThan(0.015);
  });
});
