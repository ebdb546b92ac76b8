import type { Clock } from '../../platform/clock.ts';
import type { Cache } from '../ports.ts';
import { TtlMap } from '../../platform/ttl-map.ts';

export class MemoryCache implements Cache {
  private readonly entries: TtlMap<string, string>;

  constructor(clock: Clock) {
    this.entries = new TtlMap(clock);
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, value, ttlMs);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  clear(): void {
    this.entries.clear();
  }
}
