import type { Redis } from 'ioredis';
import type { Bus, BusHandler } from '../ports.ts';

interface Channel {
  /**
   * Replaced, never changed in place, so a dispatch keeps the list it started with. Usually
   * one handler (the realtime hub subscribes once per channel): an array of one is much
   * smaller than a Set, and there may be one channel per connected driver.
   */
  handlers: ReadonlyArray<{ handler: BusHandler }>;
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
      entry = { handlers: [], subscribed: this.subscriber.subscribe(name) };
      this.channels.set(name, entry);
    }
    const joined = entry;
    // A wrapper per call, so the same function subscribed twice needs two unsubscribes.
    const sub = { handler };
    joined.handlers = [...joined.handlers, sub];
    try {
      await joined.subscribed;
    } catch (err) {
      await this.unsubscribe(name, joined, sub).catch(() => undefined);
      throw err;
    }
    // Not assigned to a name first: under tsx (esbuild keepNames) a named closure gets a `name`
    // property of its own, which puts it in dictionary mode, ~300 bytes for each channel.
    return () => this.unsubscribe(name, joined, sub);
  }

  private async unsubscribe(
    name: string,
    entry: Channel,
    sub: { handler: BusHandler },
  ): Promise<void> {
    if (!entry.handlers.includes(sub)) return;
    entry.handlers = entry.handlers.filter((held) => held !== sub);
    if (entry.handlers.length > 0) return;
    if (this.channels.get(name) !== entry) return;
    this.channels.delete(name);
    // Commands on one connection run in order, so a re-SUBSCRIBE issued after this wins.
    await this.subscriber.unsubscribe(name);
  }
}
