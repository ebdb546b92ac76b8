import { describe, expect, it } from 'vitest';
import { settle } from './settle.ts';

/** A clock that moves only when `settle` sleeps, and what it has slept in all. */
function fakeTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    elapsed: () => t,
  };
}

describe('settle', () => {
  it('returns as soon as nothing is pending', async () => {
    const time = fakeTime();
    const counts = [10, 4, 0];
    const left = await settle(() => counts.shift() ?? 0, {
      quietMs: 10_000,
      maxMs: 180_000,
      ...time,
    });
    expect(left).toBe(0);
    expect(time.elapsed()).toBe(400);
  });

  it('keeps waiting while answers still come, however late', async () => {
    const time = fakeTime();
    // One answer every 5 s for a minute: never 10 s without progress.
    const left = await settle(() => Math.max(0, 12 - Math.floor(time.now() / 5_000)), {
      quietMs: 10_000,
      maxMs: 180_000,
      ...time,
    });
    expect(left).toBe(0);
    expect(time.elapsed()).toBe(60_000);
  });

  it('gives up once nothing has been answered for the quiet time', async () => {
    const time = fakeTime();
    const left = await settle(() => (time.now() < 3_000 ? 9 - time.now() / 1_000 : 6), {
      quietMs: 10_000,
      maxMs: 180_000,
      everyMs: 1_000,
      ...time,
    });
    expect(left).toBe(6);
    expect(time.elapsed()).toBe(13_000);
  });

  it('stops at the longest wait even while answers still come', async () => {
    const time = fakeTime();
    const left = await settle(() => 1_000_000 - time.now(), {
      quietMs: 10_000,
      maxMs: 30_000,
      ...time,
    });
    expect(left).toBe(1_000_000 - 30_000);
    expect(time.elapsed()).toBe(30_000);
  });
});
