import type { Clock } from '../platform/clock.ts';

/** Allows `ratePerSec` on average with bursts of up to `burst`; refills continuously. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  take(): boolean {
    const now = this.clock.now();
    const refill = (Math.max(0, now - this.updatedAt) * this.ratePerSec) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + refill);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts hits in fixed windows of `windowMs`; `hit` returns the count of the current one. */
export class WindowCounter {
  private count = 0;
  private windowStart: number;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {
    this.windowStart = clock.now();
  }

  hit(): number {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count;
  }
}
