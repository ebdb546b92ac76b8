/**
 * Periodic callbacks for many actors on one timer.
 *
 * Thirty thousand reporting drivers on their own `setInterval` each cost the load generator a
 * timer callback per report on top of the report. A wheel fires them from one interval of
 * `resolutionMs`: on every turn, whatever came due since the last turn. A callback may be up to
 * one turn late, never early. After a stall it fires once, not once per period it missed, and
 * keeps its phase: a simulated phone that was not scheduled for five seconds sends its
 * position now, not two old ones in a burst, and a burst of every actor's missed callbacks
 * would only make the next stall longer.
 */
export type Repeat = (everyMs: number, firstAfterMs: number, fn: () => void) => () => void;

interface Entry {
  due: number;
  readonly everyMs: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class TimerWheel {
  /** Entries by the turn they are due in (`tickOf(due)`), modulo the number of slots. */
  private readonly slots: Entry[][];
  private turned: number;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly resolutionMs = 10,
    private readonly now: () => number = () => performance.now(),
    slots = 1024,
  ) {
    this.slots = Array.from({ length: slots }, () => []);
    this.turned = Math.floor(this.now() / resolutionMs);
  }

  /** Calls `fn` after `firstAfterMs`, then every `everyMs`, until the returned function is called. */
  readonly every: Repeat = (everyMs, firstAfterMs, fn) => {
    if (!(everyMs > 0)) throw new RangeError(`every: period must be positive, not ${everyMs}`);
    const entry: Entry = { due: this.now() + firstAfterMs, everyMs, fn, cancelled: false };
    this.place(entry);
    this.size += 1;
    this.timer ??= setInterval(() => this.turn(), this.resolutionMs);
    return () => {
      if (entry.cancelled) return;
      entry.cancelled = true;
      this.size -= 1;
      if (this.size === 0) this.halt();
    };
  };

  /** Fires everything due by now. Called by the wheel's own interval; public for tests. */
  turn(): void {
    const now = this.now();
    const until = Math.floor(now / this.resolutionMs);
    // After a long stall, go round at most once: every slot is visited and its due entries fire.
    const from = Math.max(this.turned + 1, until - this.slots.length + 1);
    let failure: { error: unknown } | undefined;
    for (let tick = from; tick <= until; tick++) {
      this.turned = tick;
      const slot = this.slots[tick % this.slots.length]!;
      if (slot.length === 0) continue;
      const later: Entry[] = [];
      this.slots[tick % this.slots.length] = later;
      for (const entry of slot) {
        if (entry.cancelled) continue;
        if (this.tickOf(entry.due) > tick) {
          later.push(entry); // due on a later lap of the wheel
          continue;
        }
        // The next due time after now, in step with the first: periods missed are skipped.
        entry.due += entry.everyMs * (Math.floor((now - entry.due) / entry.everyMs) + 1);
        this.place(entry);
        try {
          entry.fn();
        } catch (error) {
          // The others still fire; the first failure is thrown when the turn is done, as a
          // timer's would be.
          failure ??= { error };
        }
      }
    }
    this.turned = until;
    if (failure) throw failure.error;
  }

  /** Stops the interval and forgets every entry. */
  halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (let i = 0; i < this.slots.length; i++) {
      for (const entry of this.slots[i]!) entry.cancelled = true;
      this.slots[i] = [];
    }
    this.size = 0;
  }

  /** The first turn at or after `time`: an entry never fires before it is due. */
  private tickOf(time: number): number {
    return Math.ceil(time / this.resolutionMs);
  }

  private place(entry: Entry): void {
    // Never into a slot the wheel has passed: it would wait a whole lap.
    const tick = Math.max(this.tickOf(entry.due), this.turned + 1);
    this.slots[tick % this.slots.length]!.push(entry);
  }
}

/** The default `Repeat`: a timer of its own per callback. */
export const repeatWithTimers: Repeat = (everyMs, firstAfterMs, fn) => {
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    fn();
    interval = setInterval(fn, everyMs);
  }, firstAfterMs);
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
};
