import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from './clock.ts';
import { LocalCache, type CacheSettings } from './local-cache.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A minute's TTL, no jitter: expiries fall exactly where the tests advance the clock. */
const SETTINGS = { ttlMs: 60_000, jitterMs: 0, maxEntries: 100 };

function setup(
  opts: Partial<CacheSettings<string>> & { load?: (key: string) => Promise<string> } = {},
) {
  const clock = new ManualClock();
  const loads: string[] = [];
  let version = 0;
  const cache = new LocalCache<string>({
    ...SETTINGS,
    clock,
    ...opts,
    load:
      opts.load ??
      ((key) => {
        loads.push(key);
        return Promise.resolve(`${key}@${++version}`);
      }),
  });
  return { clock, cache, loads };
}

/** A cache whose reads go through `loadMany`; each call's keys are recorded and held. */
function batched(
  opts: Partial<CacheSettings<string>> & { max?: number; refreshWindowMs?: number } = {},
) {
  const clock = new ManualClock();
  const calls: Array<{ keys: string[]; answer: ReturnType<typeof deferred<string[]>> }> = [];
  const cache = new LocalCache<string>({
    ...SETTINGS,
    clock,
    ...opts,
    batch: {
      windowMs: 5,
      refreshWindowMs: opts.refreshWindowMs,
      max: opts.max ?? 100,
      loadMany: (keys) => {
        const answer = deferred<string[]>();
        calls.push({ keys, answer });
        return answer.promise;
      },
    },
  });
  const called = () => vi.waitFor(() => expect(calls.length).toBeGreaterThan(0));
  /** Loads `key` through its own batch, answered with `value`. */
  const fill = async (key: string, value: string) => {
    const before = calls.length;
    const got = cache.get(key);
    await vi.waitFor(() => expect(calls).toHaveLength(before + 1));
    calls[before]!.answer.resolve([value]);
    expect(await got).toBe(value);
  };
  return { clock, cache, calls, called, fill };
}

describe('LocalCache', () => {
  it('loads once and answers from memory until the TTL passes', async () => {
    const { clock, cache, loads } = setup();
    expect(cache.peek('a')).toBeUndefined();
    expect(await cache.get('a')).toBe('a@1');
    expect(await cache.get('a')).toBe('a@1');
    expect(cache.peek('a')).toBe('a@1');
    clock.advance(59_999);
    expect(await cache.get('a')).toBe('a@1');
    clock.advance(1);
    expect(cache.peek('a')).toBeUndefined();
    expect(await cache.get('a')).toBe('a@2');
    expect(loads).toEqual(['a', 'a']);
  });

  it('takes a random part of the jitter off each TTL, never adding to it', async () => {
    const randoms = [0, 0.5, 0.999];
    const { clock, cache } = setup({ jitterMs: 10_000, random: () => randoms.shift()! });
    await Promise.all([cache.get('a'), cache.get('b'), cache.get('c')]);
    clock.advance(50_010); // c lived 60 s - 9.99 s
    expect([cache.peek('a'), cache.peek('b'), cache.peek('c')]).toEqual(['a@1', 'b@2', undefined]);
    clock.advance(5_000);
    expect([cache.peek('a'), cache.peek('b')]).toEqual(['a@1', undefined]);
    clock.advance(4_990);
    expect(cache.peek('a')).toBeUndefined();
  });

  it('shares one load between concurrent misses of a key', async () => {
    const gate = deferred<string>();
    let calls = 0;
    const { cache } = setup({
      load: () => {
        calls++;
        return gate.promise;
      },
    });
    const waiting = [cache.get('d'), cache.get('d'), cache.get('d')];
    gate.resolve('orders');
    expect(await Promise.all(waiting)).toEqual(['orders', 'orders', 'orders']);
    expect(await cache.get('d')).toBe('orders');
    expect(calls).toBe(1);
  });

  it('does not keep the answer of a load that an invalidation overtook', async () => {
    const gates = [deferred<string>(), deferred<string>()];
    let calls = 0;
    const { cache } = setup({ load: () => gates[calls++]!.promise });
    const before = cache.get('d');
    cache.invalidate('d'); // the change committed while the first read was under way
    const after = cache.get('d'); // a new load, not the old one
    gates[1]!.resolve('new');
    gates[0]!.resolve('old');
    expect(await before).toBe('old');
    expect(await after).toBe('new');
    expect(cache.peek('d')).toBe('new');
    expect(calls).toBe(2);
  });

  it('keeps a value set by its writer, over a load already under way, for the TTL', async () => {
    const gate = deferred<string>();
    let calls = 0;
    const { cache, clock } = setup({
      load: () => (calls++ === 0 ? gate.promise : Promise.resolve('reloaded')),
    });
    const before = cache.get('d'); // a read that started before the write
    cache.set('d', 'written');
    gate.resolve('old');
    expect(await before).toBe('old');
    expect(await cache.get('d')).toBe('written');
    expect(calls).toBe(1);
    clock.advance(60_000);
    expect(await cache.get('d')).toBe('reloaded');
  });

  it('keeps nothing from a failed load, and the next miss tries again', async () => {
    let fail = true;
    const { cache } = setup({
      load: () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve('ok')),
    });
    await expect(cache.get('x')).rejects.toThrow('db down');
    fail = false;
    expect(await cache.get('x')).toBe('ok');
  });

  it('drops entries on invalidate and clear, and skips values `keep` refuses', async () => {
    const { cache, loads } = setup({ keep: (v) => !v.startsWith('skip') });
    await cache.get('a');
    await cache.get('b');
    cache.invalidate('a');
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toBe('b@2');
    cache.clear();
    expect(cache.size).toBe(0);
    await cache.get('skip');
    await cache.get('skip');
    expect(loads.filter((k) => k === 'skip')).toHaveLength(2);
  });

  it('holds at most maxEntries, dropping the oldest filled first', async () => {
    const { cache } = setup({ maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    cache.invalidate('a');
    await cache.get('a'); // refilled: now the newest
    await cache.get('c');
    expect(cache.size).toBe(2);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe('a@3');
    expect(cache.peek('c')).toBe('c@4');
  });

  it('reads the keys missed within the window in one call, each caller getting its own', async () => {
    const { cache, calls, called } = batched();
    const waiting = [cache.get('a'), cache.get('b'), cache.get('a'), cache.get('c')];
    await called();
    expect(calls.map((c) => c.keys)).toEqual([['a', 'b', 'c']]);
    calls[0]!.answer.resolve(['A', 'B', 'C']);
    expect(await Promise.all(waiting)).toEqual(['A', 'B', 'A', 'C']);
    expect([cache.peek('a'), cache.peek('b'), cache.peek('c')]).toEqual(['A', 'B', 'C']);
  });

  it('sends a full batch at once, and fails every caller of a failed or short answer', async () => {
    const { cache, calls } = batched({ max: 2 });
    const first = [cache.get('a'), cache.get('b')];
    expect(calls.map((c) => c.keys)).toEqual([['a', 'b']]); // no waiting for the window
    calls[0]!.answer.reject(new Error('db down'));
    for (const p of first) await expect(p).rejects.toThrow('db down');
    const second = [cache.get('a'), cache.get('b')];
    calls[1]!.answer.resolve(['A']);
    expect(await second[0]).toBe('A');
    await expect(second[1]).rejects.toThrow('answered 1 of 2 keys');
    expect(cache.peek('b')).toBeUndefined();
  });

  it('does not keep a batched answer that an invalidation overtook', async () => {
    const { cache, calls, called } = batched();
    const before = cache.get('d');
    await called();
    cache.invalidate('d');
    calls[0]!.answer.resolve(['old']);
    expect(await before).toBe('old');
    expect(cache.peek('d')).toBeUndefined();
  });

  it('refreshes an entry in steady use before it expires, answering the old value meanwhile', async () => {
    const { clock, cache, calls, fill } = batched({ refreshAfterMs: 30_000 });
    await fill('d', 'v1');
    clock.advance(29_999);
    expect(cache.peek('d')).toBe('v1');
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(1); // not due yet
    clock.advance(1);
    expect(cache.peek('d')).toBe('v1'); // due: answered as is, refreshed behind
    expect(await cache.get('d')).toBe('v1');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.keys).toEqual(['d']);
    calls[1]!.answer.resolve(['v2']);
    await vi.waitFor(() => expect(cache.peek('d')).toBe('v2'));
    clock.advance(59_999); // the refreshed entry lives a full TTL from its refresh
    expect(cache.peek('d')).toBe('v2');
  });

  it('tries a background refresh once per fill; after a failure the entry serves out its TTL', async () => {
    const { clock, cache, calls, fill } = batched({ refreshAfterMs: 30_000 });
    await fill('d', 'v1');
    clock.advance(30_000);
    expect(cache.peek('d')).toBe('v1');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    calls[1]!.answer.reject(new Error('db down'));
    await new Promise((r) => setTimeout(r, 20));
    expect(cache.peek('d')).toBe('v1');
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(2);
    clock.advance(30_000);
    expect(cache.peek('d')).toBeUndefined();
  });

  it('drops an entry whose refresh answers a value `keep` refuses', async () => {
    const { clock, cache, calls, fill } = batched({
      refreshAfterMs: 30_000,
      keep: (v) => v !== 'gone',
    });
    await fill('o', 'here');
    clock.advance(30_000);
    expect(cache.peek('o')).toBe('here');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    calls[1]!.answer.resolve(['gone']);
    await vi.waitFor(() => expect(cache.peek('o')).toBeUndefined());
  });

  it('lets background refreshes wait longer for company, until a miss needs an answer', async () => {
    const { clock, cache, calls, fill } = batched({
      refreshAfterMs: 30_000,
      refreshWindowMs: 60_000,
    });
    await fill('d', 'D');
    clock.advance(30_000);
    expect(cache.peek('d')).toBe('D');
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(1); // the refresh waits for others
    const miss = cache.get('x');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.keys).toEqual(['d', 'x']);
    calls[1]!.answer.resolve(['D2', 'X']);
    expect(await miss).toBe('X');
    await vi.waitFor(() => expect(cache.peek('d')).toBe('D2'));
  });
});
