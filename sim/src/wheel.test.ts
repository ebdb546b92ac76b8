import { afterEach, describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';
import { TimerWheel } from './wheel.ts';

let wheels: TimerWheel[] = [];
afterEach(() => {
  for (const w of wheels) w.halt();
  wheels = [];
});

/** A wheel on a clock the test moves; `advance` moves it in steps, turning after each. */
function wheelAt(resolutionMs = 10, slots = 1024) {
  const clock = { now: 0 };
  const wheel = new TimerWheel(resolutionMs, () => clock.now, slots);
  wheels.push(wheel);
  const advance = (ms: number, stepMs = resolutionMs) => {
    const until = clock.now + ms;
    while (clock.now < until) {
      clock.now = Math.min(until, clock.now + stepMs);
      wheel.turn();
    }
  };
  return { wheel, clock, advance };
}

describe('TimerWheel', () => {
  it('fires every entry on its period, never early and at most one turn late', () => {
    const { wheel, clock, advance } = wheelAt(10);
    const rng = new Rng('wheel');
    const fired = new Map<number, number[]>();
    const offsets = Array.from({ length: 500 }, () => rng.float(0, 3_000));
    offsets.forEach((offset, i) =>
      wheel.every(3_000, offset, () => fired.set(i, [...(fired.get(i) ?? []), clock.now])),
    );
    advance(30_000);
    offsets.forEach((offset, i) => {
      const times = fired.get(i)!;
      // Due at offset, offset + 3 s, ... up to 30 s: exactly that many, each in its turn.
      expect(times).toHaveLength(Math.floor((30_000 - offset) / 3_000) + 1);
      times.forEach((t, k) => {
        const due = offset + k * 3_000;
        expect(t).toBeGreaterThanOrEqual(due);
        expect(t - due).toBeLessThan(10);
      });
    });
  });

  it('fires once after a stall, keeping its phase, and handles periods beyond one lap', () => {
    const { wheel, clock } = wheelAt(10, 8); // one lap is 80 ms
    const short: number[] = [];
    const long: number[] = [];
    wheel.every(10, 10, () => short.push(clock.now));
    wheel.every(200, 200, () => long.push(clock.now));
    clock.now = 65; // one late turn: the short entry was due at 10, 20, ... 60
    wheel.turn();
    expect(short).toEqual([65]);
    for (clock.now = 70; clock.now <= 130; clock.now += 10) wheel.turn();
    expect(short).toEqual([65, 70, 80, 90, 100, 110, 120, 130]);
    expect(long).toEqual([]);
    for (; clock.now <= 610; clock.now += 10) wheel.turn();
    expect(long).toEqual([200, 400, 600]);
    clock.now = 1_234; // a stall of more than a lap: the long entry was due at 800 and 1,000
    wheel.turn();
    expect(long).toEqual([200, 400, 600, 1_234]);
    for (clock.now = 1_240; clock.now <= 1_410; clock.now += 10) wheel.turn();
    expect(long).toEqual([200, 400, 600, 1_234, 1_400]);
  });

  it('stops an entry that is cancelled and keeps the others', () => {
    const { wheel, advance } = wheelAt();
    let a = 0;
    let b = 0;
    const cancelA = wheel.every(100, 0, () => (a += 1));
    wheel.every(100, 0, () => (b += 1));
    advance(250);
    cancelA();
    cancelA(); // twice is harmless
    advance(300);
    expect([a, b]).toEqual([3, 6]);
  });

  it('fires the rest of a turn when one callback throws, then throws its error', () => {
    const { wheel, clock } = wheelAt();
    const fired: string[] = [];
    wheel.every(100, 5, () => {
      fired.push('a');
      throw new Error('boom');
    });
    wheel.every(100, 5, () => fired.push('b'));
    clock.now = 10;
    expect(() => wheel.turn()).toThrow('boom');
    expect(fired).toEqual(['a', 'b']);
    clock.now = 110;
    expect(() => wheel.turn()).toThrow('boom');
    expect(fired).toEqual(['a', 'b', 'a', 'b']);
  });

  it('refuses a period that is not positive', () => {
    const { wheel } = wheelAt();
    expect(() => wheel.every(0, 0, () => undefined)).toThrow(RangeError);
  });
});
