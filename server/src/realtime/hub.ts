import type { Bus } from '../adapters/ports.ts';
import type { ChannelEvent } from './channel-events.ts';

/** Receives each event of a channel once; `raw` is the event's JSON, ready to forward. */
export interface HubListener {
  receive(event: ChannelEvent, raw: string): void;
}

export interface Membership {
  /** Settles once events published from now on reach the listener; rejects if the bus fails. */
  ready: Promise<void>;
  /** Stops delivery at once; the bus subscription goes when the channel's last listener does. */
  leave(): Promise<void>;
}

interface Entry {
  /**
   * Replaced, never changed in place, when a listener joins or leaves: a dispatch in progress
   * keeps the list it started with, and most channels (a driver's own) have a single listener,
   * for which an array of one is much smaller than a Set.
   */
  listeners: readonly HubListener[];
  subscription: Promise<() => Promise<void>>;
}

const nothing = (): void => undefined;

/** One listener's place in a channel: a small object rather than closures, one per socket. */
class Member implements Membership {
  constructor(
    private readonly hub: RealtimeHub,
    private readonly channel: string,
    private readonly entry: Entry,
    private readonly listener: HubListener,
  ) {}

  get ready(): Promise<void> {
    return this.entry.subscription.then(nothing);
  }

  leave(): Promise<void> {
    return this.hub.leave(this.channel, this.entry, this.listener);
  }
}

/**
 * The process's fan-out point: one bus subscription per channel however many local sockets
 * listen to it, taken on the first listener and dropped with the last. Each message is parsed
 * once, then handed to every listener of the channel.
 */
export class RealtimeHub {
  private readonly channels = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly onError: (err: unknown, channel: string) => void,
  ) {}

  join(channel: string, listener: HubListener): Membership {
    if (this.closed) {
      return { ready: Promise.reject(new Error('realtime hub closed')), leave: async () => {} };
    }
    const entry = this.channels.get(channel);
    if (entry) {
      entry.listeners = [...entry.listeners, listener];
      return new Member(this, channel, entry, listener);
    }
    const created: Entry = {
      listeners: [listener],
      subscription: this.bus.subscribe(channel, (raw) => this.dispatch(channel, created, raw)),
    };
    created.subscription.catch(() => {
      if (this.channels.get(channel) === created) this.channels.delete(channel);
    });
    this.channels.set(channel, created);
    return new Member(this, channel, created, listener);
  }

  /** Channels with a live bus subscription (or one being taken). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Drops every bus subscription (shutdown); listeners receive nothing afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.channels.entries()];
    this.channels.clear();
    await Promise.allSettled(
      entries.map(async ([channel, entry]) => {
        entry.listeners = [];
        await this.unsubscribe(channel, entry);
      }),
    );
  }

  /** Through `Membership.leave`. */
  async leave(channel: string, entry: Entry, listener: HubListener): Promise<void> {
    const at = entry.listeners.indexOf(listener);
    if (at < 0) return;
    entry.listeners = entry.listeners.filter((_, i) => i !== at);
    if (entry.listeners.length > 0) return;
    if (this.channels.get(channel) !== entry) return;
    this.channels.delete(channel);
    await this.unsubscribe(channel, entry);
  }

  private async unsubscribe(channel: string, entry: Entry): Promise<void> {
    try {
      const unsubscribe = await entry.subscription.catch(() => null);
      await unsubscribe?.();
    } catch (err) {
      this.onError(err, channel);
    }
  }

  private dispatch(channel: string, entry: Entry, raw: string): void {
    const listeners = entry.listeners;
    if (listeners.length === 0) return;
    let event: ChannelEvent;
    try {
      event = JSON.parse(raw) as ChannelEvent;
      if (typeof event.id !== 'string' || event.channel !== channel) {
        throw new Error('not a channel event');
      }
    } catch (err) {
      this.onError(err, channel);
      return;
    }
    for (const listener of listeners) {
      try {
        listener.receive(event, raw);
      } catch (err) {
        this.onError(err, channel);
      }
    }
  }
}
