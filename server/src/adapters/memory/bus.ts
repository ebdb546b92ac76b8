import type { Bus, BusHandler } from '../ports.ts';

interface Subscription {
  handler: BusHandler;
  active: boolean;
}

export class MemoryBus implements Bus {
  private readonly channels = new Map<string, Set<Subscription>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  publish(channel: string, message: string): Promise<void> {
    // Recipients are fixed at publish time but delivered later, like a real bus; a handler
    // unsubscribed in between is skipped.
    for (const sub of this.channels.get(channel) ?? []) {
      queueMicrotask(() => {
        if (!sub.active) return;
        try {
          sub.handler(message);
        } catch (err) {
          this.onError(err);
        }
      });
    }
    return Promise.resolve();
  }

  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    // One entry per call, so the same function subscribed twice needs two unsubscribes.
    const sub: Subscription = { handler, active: true };
    const subs = this.channels.get(channel) ?? new Set<Subscription>();
    subs.add(sub);
    this.channels.set(channel, subs);
    return Promise.resolve(() => {
      sub.active = false;
      subs.delete(sub);
      if (subs.size === 0 && this.channels.get(channel) === subs) this.channels.delete(channel);
      return Promise.resolve();
    });
  }

  clear(): void {
    for (const subs of this.channels.values()) for (const sub of subs) sub.active = false;
    this.channels.clear();
  }
}
