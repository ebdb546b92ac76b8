import type { Redis } from 'ioredis';
import type { Bus, BusHandler } from '../ports.ts';

interface Channel {
  handlers: Set<{ handler: BusHandler }>;
  /** Settles when this channel's SUBSCRIBE is acknowledged. */
  subscribed: Promise<unknown>;
}

/**
 * PUBLISH goes over the command connection; all subscriptions of the process share one
 * subscriber connection, with one Redis subscription per channel however many handlers.
 */
export class RedisBus implements Bus {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly commands: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly onError: (err: unknown) => void,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      for (const { handler } of this.channels.get(channel)?.handlers ?? []) {
        try {
          handler(message);
        } catch (err) {
          this.onError(err);
        }
      }
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.commands.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const name = this.prefix + channel;
    let entry = this.channels.get(name);
    if (!entry) {
      entry = { handlers: new Set(), subscribed: this.subscriber.subscribe(name) };
      this.channels.set(name, entry);
    }
    // A wrapper per call, so the same function subscribed twice needs two unsubscribes.
    const sub = { handler };
    entry.handlers.add(sub);
    const unsubscribe = async (): Promise<void> => {
      if (!entry.handlers.delete(sub) || entry.handlers.size > 0) return;
      if (this.channels.get(name) !== entry) return;
      this.channels.delete(name);
      // Commands on one connection run in order, so a re-SUBSCRIBE issued after this wins.
      await this.subscriber.unsubscribe(name);
    };
    try {
      await entry.subscribed;
    } catch (err) {
      await unsubscribe().catch(() => undefined);
      throw err;
    }
    return unsubscribe;
  }
}
