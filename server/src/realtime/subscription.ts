import { compareEventIds, type EventLog } from '../adapters/ports.ts';
import { eventFromLog, type ChannelEvent } from './channel-events.ts';
import type { Membership, RealtimeHub } from './hub.ts';

const REPLAY_PAGE = 1000;

/** The channel's logged events after `afterId`, oldest first, read in pages, at most `max`. */
export async function readReplay(
  events: EventLog,
  channel: string,
  afterId: string,
  max: number,
): Promise<ChannelEvent[]> {
  const replay: ChannelEvent[] = [];
  let after = afterId;
  while (replay.length < max) {
    const page = await events.readAfter(channel, after, REPLAY_PAGE);
    for (const logged of page) replay.push(eventFromLog(channel, logged));
    if (page.length < REPLAY_PAGE) break;
    after = page.at(-1)!.id;
  }
  return replay;
}

/** Where a subscription's frames go (the socket's connection). */
export interface FrameSink {
  sendRaw(raw: string): void;
}

/**
 * One socket's feed of one channel. It joins the hub at once but holds live events back until
 * `goLive`, so the replay can be read in between without losing what is published meanwhile.
 */
export class ChannelSubscription {
  readonly membership: Membership;
  private held: Array<{ event: ChannelEvent; raw: string }> | null = [];
  /** Live events up to this id were already sent by the replay (or seen by the client). */
  private seenUpTo: string | null = null;

  constructor(
    hub: RealtimeHub,
    readonly channel: string,
    private readonly sink: FrameSink,
  ) {
    this.membership = hub.join(channel, this);
  }

  /** A live event of the channel, from the hub. */
  receive(event: ChannelEvent, raw: string): void {
    if (this.held) this.held.push({ event, raw });
    else this.forward(event, raw);
  }

  /** Sends the replay, then the held events it did not contain, in id order; live after. */
  goLive(replay: ChannelEvent[], lastEventId: string | null): void {
    this.seenUpTo = replay.at(-1)?.id ?? lastEventId;
    for (const event of replay) this.sink.sendRaw(JSON.stringify(event));
    const held = this.held ?? [];
    this.held = null;
    held.sort((a, b) => compareEventIds(a.event.id, b.event.id));
    for (const { event, raw } of held) this.forward(event, raw);
  }

  /**
   * Only ids up to the replay's end can be duplicates; later ones are all new, even when two
   * instances' publishes arrive out of order, so they are never compared with each other.
   */
  private forward(event: ChannelEvent, raw: string): void {
    if (this.seenUpTo !== null && compareEventIds(event.id, this.seenUpTo) <= 0) return;
    this.sink.sendRaw(raw);
  }
}
