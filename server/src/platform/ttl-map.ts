import type { Clock } from './clock.ts';

interface Slot<V> {
  value: V;
  expiresAt: number;
}

/**
 * A Map whose entries expire by the injected clock. Expiry is checked lazily on read, and
 * a full sweep runs once the writes since the last sweep reach the map's size, so cleanup
 * costs amortised O(1) per write and needs no timer. With `maxEntries`, the entries written
 * longest ago are dropped beyond that many (a rewrite counts as a new write).
 */
export class TtlMap<K, V> {
  private readonly slots = new Map<K, Slot<V>>();
  private writesSinceSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onExpire?: (key: K, value: V) => void,
    private readonly maxEntries = Number.POSITIVE_INFINITY,
  ) {}

  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (this.clock.now() >= slot.expiresAt) {
      this.expire(key, slot);
      return undefined;
    }
    return slot.value;
  }

  set(key: K, value: V, ttlMs: number): void {
    // Deleted first so the map's order stays the order of writing, oldest first.
    if (this.maxEntries !== Number.POSITIVE_INFINITY) this.slots.delete(key);
    this.slots.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    if (++this.writesSinceSweep >= Math.max(64, this.slots.size)) this.sweep();
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next();
      if (oldest.done) break;
      this.slots.delete(oldest.value);
    }
  }

  delete(key: K): V | undefined {
    const value = this.get(key);
    this.slots.delete(key);
    return value;
  }

  /** Live entries; expired ones met on the way are dropped. */
  *entries(): IterableIterator<[K, V]> {
    for (const key of [...this.slots.keys()]) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  size(): number {
    this.sweep();
    return this.slots.size;
  }

  clear(): void {
    this.slots.clear();
  }

  private sweep(): void {
    this.writesSinceSweep = 0;
    const now = this.clock.now();
    for (const [key, slot] of this.slots) if (now >= slot.expiresAt) this.expire(key, slot);
  }

  private expire(key: K, slot: Slot<V>): void {
    this.slots.delete(key);
    this.onExpire?.(key, slot.value);
  }
}
