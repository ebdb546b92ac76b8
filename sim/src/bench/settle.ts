import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits for what is in flight to be answered, and returns how much still is. It stops once
 * nothing is pending, once the count has not fallen for `quietMs` (the other side has stopped
 * answering), or after `maxMs` in all. A fixed wait would call an overloaded server's late
 * answers lost: at 10,000 reports a second on a slow machine acks ran 15–26 s late, and a
 * 10 s wait counted 15,926 of them as unanswered.
 */
export async function settle(
  pending: () => number,
  opts: {
    quietMs: number;
    maxMs: number;
    everyMs?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<number> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? delay;
  const start = now();
  let left = pending();
  let fellAt = start;
  while (left > 0) {
    const at = now();
    if (at - start >= opts.maxMs || at - fellAt >= opts.quietMs) break;
    await sleep(opts.everyMs ?? 200);
    const next = pending();
    if (next < left) fellAt = now();
    left = next;
  }
  return left;
}
