import type { Clock } from '../../platform/clock.ts';
import type { RateLimiter, RateWindow } from '../ports.ts';
import { TtlMap } from '../../platform/ttl-map.ts';

interface Window {
  count: number;
  endsAt: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows: TtlMap<string, Window>;

  constructor(private readonly clock: Clock) {
    this.windows = new TtlMap(clock);
  }

  hit(key: string, windowMs: number): Promise<RateWindow> {
    const now = this.clock.now();
    const current = this.windows.get(key);
    const window = current ?? { count: 0, endsAt: now + windowMs };
    window.count++;
    if (!current) this.windows.set(key, window, windowMs);
    return Promise.resolve({ count: window.count, resetInMs: window.endsAt - now });
  }

  clear(): void {
    this.windows.clear();
  }
}
