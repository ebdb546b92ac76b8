import type { Clock } from '../../platform/clock.ts';
import type { LeaseManager } from '../ports.ts';
import { TtlMap } from '../../platform/ttl-map.ts';

export class MemoryLeaseManager implements LeaseManager {
  private readonly leases: TtlMap<string, string>;

  constructor(clock: Clock) {
    this.leases = new TtlMap(clock);
  }

  acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const current = this.leases.get(name);
    if (current !== undefined && current !== holder) return Promise.resolve(false);
    this.leases.set(name, holder, ttlMs);
    return Promise.resolve(true);
  }

  release(name: string, holder: string): Promise<void> {
    if (this.leases.get(name) === holder) this.leases.delete(name);
    return Promise.resolve();
  }

  holder(name: string): Promise<string | null> {
    return Promise.resolve(this.leases.get(name) ?? null);
  }

  clear(): void {
    this.leases.clear();
  }
}
