import type { Clock } from '../../platform/clock.ts';
import { compareEventIds, type EventLog, type LoggedEvent } from '../ports.ts';

interface Stream {
  events: (LoggedEvent & { ms: number })[];
  retentionMs: number;
  lastMs: number;
  lastSeq: number;
}

export const EVENT_ID = /^\d+-\d+$/;

/** Streams with Redis-style `<ms>-<seq>` ids; events older than the retention are dropped. */
export class MemoryEventLog implements EventLog {
  private readonly streams = new Map<string, Stream>();
  private appendsSinceSweep = 0;

  constructor(private readonly clock: Clock) {}

  append(
    stream: string,
    payload: string,
    retentionMs: number,
    options: { replaces?: string } = {},
  ): Promise<string> {
    if (options.replaces !== undefined && !EVENT_ID.test(options.replaces)) {
      return Promise.reject(new RangeError(`invalid event id ${options.replaces}`));
    }
    const now = this.clock.now();
    const s = this.live(stream, now) ?? { events: [], retentionMs, lastMs: -1, lastSeq: 0 };
    // Like XADD: a clock that did not advance (or went back) bumps the sequence instead.
    if (now > s.lastMs) {
      s.lastMs = now;
      s.lastSeq = 0;
    } else {
      s.lastSeq++;
    }
    const id = `${s.lastMs}-${s.lastSeq}`;
    if (options.replaces !== undefined) {
      const superseded = s.events.findIndex((e) => e.id === options.replaces);
      if (superseded >= 0) s.events.splice(superseded, 1);
    }
    s.events.push({ id, payload, ms: s.lastMs });
    s.retentionMs = retentionMs;
    this.streams.set(stream, s);
    if (++this.appendsSinceSweep >= Math.max(64, this.streams.size)) this.sweep(now);
    return Promise.resolve(id);
  }

  readAfter(stream: string, afterId: string | null, limit: number): Promise<LoggedEvent[]> {
    if (afterId !== null && !EVENT_ID.test(afterId)) {
      return Promise.reject(new RangeError(`invalid event id ${afterId}`));
    }
    const events = this.live(stream, this.clock.now())?.events ?? [];
    const start =
      afterId === null ? 0 : events.findIndex((e) => compareEventIds(e.id, afterId) > 0);
    if (start < 0 || limit <= 0) return Promise.resolve([]);
    return Promise.resolve(
      events.slice(start, start + limit).map(({ id, payload }) => ({ id, payload })),
    );
  }

  clear(): void {
    this.streams.clear();
  }

  /** The stream with aged-out events dropped; an emptied stream is deleted, as Redis expires it. */
  private live(name: string, now: number): Stream | undefined {
    const s = this.streams.get(name);
    if (!s) return undefined;
    const cutoff = now - s.retentionMs;
    const keep = s.events.findIndex((e) => e.ms >= cutoff);
    if (keep < 0) {
      this.streams.delete(name);
      return undefined;
    }
    if (keep > 0) s.events.splice(0, keep);
    return s;
  }

  private sweep(now: number): void {
    this.appendsSinceSweep = 0;
    for (const name of [...this.streams.keys()]) this.live(name, now);
  }
}
