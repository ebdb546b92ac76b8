import { describe, expect, it } from 'vitest';
import { vehicleFor } from './accounts.ts';
import { decideOffer } from './decisions.ts';
import { Mover } from './movement.ts';
import { PoissonArrivals } from './rates.ts';
import { Rng } from './rng.ts';

/** Everything one simulated actor decides, in order, from a seed. */
function decisions(seed: string) {
  const root = new Rng(seed);
  const driver = root.fork('driver/d1@sim.local');
  const out: unknown[] = [vehicleFor(root.fork('vehicle/1'))];
  const policy = { acceptProbability: 0.7, minDelayMs: 1_000, maxDelayMs: 8_000 };
  for (let i = 0; i < 50; i++) out.push(decideOffer(driver, policy));
  const arrivals = new PoissonArrivals(10, root.fork('arrivals'));
  for (let i = 0; i < 50; i++) out.push(Math.round(arrivals.nextGapMs()));
  const m = new Mover('car', { lat: 49.41, lng: 8.69 }, root.fork('move'));
  m.setTarget({ lat: 49.42, lng: 8.7 });
  for (let i = 0; i < 50; i++) out.push(m.step(1), { ...m.position });
  return out;
}

describe('seeded repeatability', () => {
  it('makes the identical decision sequence for the same seed', () => {
    expect(decisions('repeat-me')).toEqual(decisions('repeat-me'));
  });

  it('makes a different one for another seed', () => {
    expect(decisions('repeat-me')).not.toEqual(decisions('another'));
  });

  it('gives each actor its own stream, independent of who asks first', () => {
    const a = new Rng('s');
    const x1 = a.fork('x').next();
    a.fork('y').next();
    const b = new Rng('s');
    b.fork('y').next();
    b.fork('y').next();
    expect(b.fork('x').next()).toBe(x1);
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = new Rng(42);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)]! += 1;
    }
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
