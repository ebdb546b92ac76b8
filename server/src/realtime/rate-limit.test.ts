import { describe, expect, it } from 'vitest';
import { ManualClock } from '../platform/clock.ts';
import { TokenBucket, WindowCounter } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('allows a burst of `burst`, then refuses until time refills it', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(20, 20, clock);
    const first = Array.from({ length: 25 }, () => bucket.take());
    expect(first.filter(Boolean)).toHaveLength(20);
    expect(first.slice(20)).toEqual([false, false, false, false, false]);
    clock.advance(100);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  it('never stores more than `burst` tokens however long it idles', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(20, 5, clock);
    clock.advance(60_000);
    const taken = Array.from({ length: 10 }, () => bucket.take()).filter(Boolean);
    expect(taken).toHaveLength(5);
  });
});

describe('WindowCounter', () => {
  it('counts within a window and starts again at zero in the next one', () => {
    const clock = new ManualClock();
    const counter = new WindowCounter(10_000, clock);
    expect([counter.hit(), counter.hit(), counter.hit()]).toEqual([1, 2, 3]);
    clock.advance(9_999);
    expect(counter.hit()).toBe(4);
    clock.advance(1);
    expect(counter.hit()).toBe(1);
  });
});
