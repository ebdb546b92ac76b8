import type { Bus } from '../adapters/ports.ts';
import type { ChannelEvent } from './channel-events.ts';

/** Receives each event of a channel once; `raw` is the event's JSON, ready to forward. */
export type HubListener = (event: ChannelEvent, raw: string) => void;

export interface Membership {
  /** Settles once events published from now on reach the listener; rejects if the bus fails. */
  ready: Promise<void>;
  /** Stops delivery at once; the bus subscription goes when the channel's last listener does. */
  leave(): Promise<void>;
}

interface Entry {
  listeners: Set<HubListener>;
  subscription: Promise<() => Promise<void>>;
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
    let entry = this.channels.get(channel);
    if (!entry) {
      const listeners = new Set<HubListener>();
      const created: Entry = {
        listeners,
        subscription: this.bus.subscribe(channel, (raw) => this.dispatch(channel, listeners, raw)),
      };
      created.subscription.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
      this.channels.set(channel, created);
      entry = created;
    }
    const joined = entry;
    joined.listeners.add(listener);
    return {
      ready: joined.subscription.then(() => undefined),
      leave: () => this.leave(channel, joined, listener),
    };
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
        entry.listeners.clear();
        await this.unsubscribe(channel, entry);
      }),
    );
  }

  private async leave(channel: string, entry: Entry, listener: HubListener): Promise<void> {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
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

  private dispatch(channel: string, listeners: Set<HubListener>, raw: string): void {
    if (listeners.size === 0) return;
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
    for (const listener of [...listeners]) {
      try {
        listener(event, raw);
      } catch (err) {
        this.onError(err, channel);
      }
    }
  }
}
