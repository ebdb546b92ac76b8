import { describe, expect, it } from 'vitest';
import { settle } from './settle.ts';

/**
 * Runs `settle` on a clock that moves only when it sleeps; `pending` reads that clock. Returns
 * what was left pending and how long it waited. Waits up to 180 s, 10 s without progress.
 */
async function run(
  pending: (now: number) => number,
  opts: { maxMs?: number; everyMs?: number } = {},
) {
  let t = 0;
  const left = await settle(() => pending(t), {
    quietMs: 10_000,
    maxMs: opts.maxMs ?? 180_000,
    everyMs: opts.everyMs,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  });
  return { left, waited: t };
}

describe('settle', () => {
  it('returns as soon as nothing is pending', async () => {
    const counts = [10, 4, 0];
    expect(await run(() => counts.shift() ?? 0)).toEqual({ left: 0, waited: 400 });
  });

  it('keeps waiting while answers still come, however late', async () => {
    // One answer every 5 s for a minute: never 10 s without progress.
    const oneEvery5s = (now: number) => Math.max(0, 12 - Math.floor(now / 5_000));
    expect(await run(oneEvery5s)).toEqual({ left: 0, waited: 60_000 });
  });

  it('gives up once nothing has been answered for the quiet time', async () => {
    // 9, 8, 7, 6 over the first 3 s, then no answer any more.
    const stalls = (now: number) => (now < 3_000 ? 9 - now / 1_000 : 6);
    expect(await run(stalls, { everyMs: 1_000 })).toEqual({ left: 6, waited: 13_000 });
  });

  it('stops at the longest wait even while answers still come', async () => {
    const endless = (now: number) => 1_000_000 - now;
    expect(await run(endless, { maxMs: 30_000 })).toEqual({ left: 970_000, waited: 30_000 });
  });
});
