import CircuitBreaker from 'opossum';
import { breakerEvents, breakerState } from '../metrics/metrics.ts';

export interface BreakerOptions {
  timeoutMs: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
}

export const DISPATCH_BREAKER: BreakerOptions = {
  timeoutMs: 5_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 3,
  resetTimeoutMs: 30_000,
};

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export function stateOf(breaker: CircuitBreaker): BreakerStateName {
  return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
}

/** An opossum breaker whose state and events are exported as metrics. */
export function createBreaker<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => Promise<R>,
  opts: BreakerOptions,
): CircuitBreaker<A, R> {
  const breaker = new CircuitBreaker(fn, {
    name,
    timeout: opts.timeoutMs,
    errorThresholdPercentage: opts.errorThresholdPercentage,
    volumeThreshold: opts.volumeThreshold,
    resetTimeout: opts.resetTimeoutMs,
  });
  breakerState.set({ name }, 0);
  const track = (event: string, state?: number) =>
    breaker.on(event as 'open', () => {
      breakerEvents.inc({ name, event });
      if (state !== undefined) breakerState.set({ name }, state);
    });
  track('open', 1);
  track('halfOpen', 0.5);
  track('close', 0);
  track('reject');
  track('failure');
  track('timeout');
  return breaker;
}
