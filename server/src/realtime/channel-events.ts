import type { Bus, EventLog, LoggedEvent } from '../adapters/ports.ts';
import type { Clock } from '../platform/clock.ts';

/** How long a channel's events stay replayable (design: "kept for 1 hour"). */
export const EVENT_RETENTION_MS = 3_600_000;

export interface ChannelEvent<T = unknown> {
  id: string;
  type: string;
  channel: string;
  at: string;
  data: T;
}

/** Rebuilds the event a log entry of `channel` was appended for (the inverse of `publish`). */
export function eventFromLog(channel: string, logged: LoggedEvent): ChannelEvent {
  const { type, at, data } = JSON.parse(logged.payload) as Omit<ChannelEvent, 'id' | 'channel'>;
  return { id: logged.id, type, channel, at, data };
}

export type ChannelPublisher = ReturnType<typeof createChannelPublisher>;

/**
 * Appends an event to its channel's replay log, then fans it out on the bus with the log's id,
 * so a subscriber that missed it live can read it back by id.
 */
export function createChannelPublisher({
  bus,
  events,
  clock,
}: {
  bus: Bus;
  events: EventLog;
  clock: Clock;
}) {
  /**
   * Publishes an event whose data is already serialised (`publish` serialises it first).
   * `replaces` names this publisher's previous event that the new one makes worthless (a
   * snapshot such as `fleet.positions`): the log keeps only the newest, so a resubscriber
   * still gets the current snapshot in its replay without an hour of old ones. `onAppended`
   * hears the new event's id as soon as it is logged, before the bus publish that may fail.
   */
  async function publishJson(
    channel: string,
    type: string,
    dataJson: string,
    options: { replaces?: string; onAppended?: (id: string) => void } = {},
  ): Promise<{ id: string; at: string }> {
    const at = new Date(clock.now()).toISOString();
    const body = `{"type":${JSON.stringify(type)},"at":"${at}","data":${dataJson}}`;
    const id = await events.append(channel, body, EVENT_RETENTION_MS, {
      replaces: options.replaces,
    });
    // The event is in the log now, even if the bus publish below fails: a caller that
    // replaces its previous event next time must know this one.
    options.onAppended?.(id);
    // The bus message is the logged body with the id and channel in front: `data` is
    // serialised once.
    await bus.publish(
      channel,
      `{"id":${JSON.stringify(id)},"channel":${JSON.stringify(channel)},${body.slice(1)}`,
    );
    return { id, at };
  }

  return {
    async publish<T>(channel: string, type: string, data: T): Promise<ChannelEvent<T>> {
      const { id, at } = await publishJson(channel, type, JSON.stringify(data));
      return { id, type, channel, at, data };
    },
    /** `publish` for data already serialised (a large batch built a piece at a time). */
    publishJson,
  };
}
