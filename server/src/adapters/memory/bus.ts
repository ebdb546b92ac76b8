import type { Bus, BusHandler } from '../ports.ts';

interface Subscription {
  handler: BusHandler;
  active: boolean;
}

export class MemoryBus implements Bus {
  /** Lists are replaced, never changed in place; usually one handler (the realtime hub's). */
  private readonly channels = new Map<string, readonly Subscription[]>();

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
    this.channels.set(channel, [...(this.channels.get(channel) ?? []), sub]);
    return Promise.resolve(() => {
      // An active subscription is always in its channel's current list.
      if (!sub.active) return Promise.resolve();
      sub.active = false;
      const rest = (this.channels.get(channel) ?? []).filter((held) => held !== sub);
      if (rest.length > 0) this.channels.set(channel, rest);
      else this.channels.delete(channel);
      return Promise.resolve();
    });
  }

  clear(): void {
    for (const subs of this.channels.values()) for (const sub of subs) sub.active = false;
    this.channels.clear();
  }
}
