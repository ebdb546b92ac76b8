import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import { LocalCache, type LocalCacheOptions } from './local-cache.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(opts: Partial<LocalCacheOptions<string>> = {}) {
  const clock = new ManualClock();
  const loads: string[] = [];
  let version = 0;
  const cache = new LocalCache<string>({
    ttlMs: 60_000,
    jitterMs: 0,
    maxEntries: 100,
    clock,
    load: (key) => {
      loads.push(key);
      return Promise.resolve(`${key}@${++version}`);
    },
    ...opts,
  });
  return { clock, cache, loads };
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
});
