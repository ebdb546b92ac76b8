import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { adapterContract } from './contract.suite.ts';
import { RedisGeoIndex } from './redis/geo.ts';
import { createRedisAdapters } from './redis/index.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `${process.env.REDIS_PREFIX ?? 'test:'}${randomBytes(6).toString('hex')}:`;

async function reachable(): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    await probe.quit();
    return true;
  } catch {
    probe.disconnect();
    return false;
  }
}

/** Deletes only this prefix's keys: the Redis is shared, so never FLUSH. */
async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

// An explicit REDIS_URL must work; only the implicit local default may be absent.
if (process.env.REDIS_URL !== undefined || (await reachable())) {
  let n = 0;
  adapterContract('redis', () => {
    const prefix = `${runPrefix}${n++}:`;
    const adapters = createRedisAdapters({ url, prefix });
    return Promise.resolve({
      adapters,
      async cleanup() {
        await adapters.close();
        await deletePrefix(prefix);
      },
    });
  });

  describe('redis adapters specifics', () => {
    const prefix = `${runPrefix}specifics:`;
    const adapters = createRedisAdapters({ url, prefix });
    const admin = new Redis(url, { maxRetriesPerRequest: 2 });
    afterAll(async () => {
      await adapters.close();
      await admin.quit();
      await deletePrefix(prefix);
    });
    const numsub = async (channel: string) => (await admin.pubsub('NUMSUB', channel))[1];

    it('holds one prefixed SUBSCRIBE per channel while any handler is left', async () => {
      const offOne = await adapters.bus.subscribe('c', () => undefined);
      const offTwo = await adapters.bus.subscribe('c', () => undefined);
      expect(await numsub(`${prefix}c`)).toBe(1);
      await offOne();
      expect(await numsub(`${prefix}c`)).toBe(1);
      await offTwo();
      expect(await numsub(`${prefix}c`)).toBe(0);
    });

    it('sends the positions set within the batch window as one script call', async () => {
      const geo = new RedisGeoIndex(admin, `${prefix}batch:`, 50);
      const calls = vi.spyOn(admin, 'evalsha');
      const turn = () => new Promise((r) => setImmediate(r));
      const at = Date.now();
      const stored = [geo.set('a', { lat: 49.4, lng: 8.69, at }, 60_000)];
      await turn();
      stored.push(geo.set('b', { lat: 49.41, lng: 8.69, at }, 60_000));
      await turn();
      stored.push(geo.set('c', { lat: 49.42, lng: 8.69, at }, 60_000));
      expect(await Promise.all(stored)).toEqual([true, true, true]);
      expect(calls).toHaveBeenCalledTimes(1);
      expect(await geo.size()).toBe(3);
      calls.mockRestore();
    });

    it('renews an entry deadline only when it is less than the TTL away', async () => {
      const geo = new RedisGeoIndex(admin, `${prefix}renew:`, 0);
      const deadline = async () =>
        Number(await admin.zscore(`${prefix}renew:drivers:deadlines`, 'd'));
      const start = Date.now();
      expect(await geo.set('d', { lat: 49.4, lng: 8.69, at: 1 }, 60_000)).toBe(true);
      const first = await deadline();
      // The TTL plus 1/60 of it: 61 s from the first update.
      expect(first).toBeGreaterThanOrEqual(start + 61_000);
      expect(first).toBeLessThanOrEqual(Date.now() + 61_000);
      expect(await admin.pttl(`${prefix}renew:driver:d`)).toBeGreaterThan(60_000);

      // A second of slack is left: the position moves, the deadline does not.
      expect(await geo.set('d', { lat: 49.41, lng: 8.69, at: 2 }, 60_000)).toBe(true);
      expect(await deadline()).toBe(first);
      expect(await geo.get('d')).toEqual({ lat: 49.41, lng: 8.69, at: 2 });

      // A longer TTL is more than the stored deadline covers: renewed, hash and set alike.
      const before = Date.now();
      expect(await geo.set('d', { lat: 49.42, lng: 8.69, at: 3 }, 120_000)).toBe(true);
      const renewed = await deadline();
      expect(renewed).toBeGreaterThanOrEqual(before + 122_000);
      expect(await admin.pttl(`${prefix}renew:driver:d`)).toBeGreaterThan(120_000);
      expect(Number(await admin.hget(`${prefix}renew:driver:d`, 'until'))).toBe(renewed);
    });

    it('namespaces keys and bounds the per-user session set', async () => {
      const session = { userId: 'u1', role: 'admin' as const, createdAt: 1, expiresAt: 2 };
      await adapters.sessions.create('h', session, 60_000);
      await adapters.cache.set('k', 'v', 60_000);
      expect(await admin.get(`${prefix}cache:k`)).toBe('v');
      expect(await admin.smembers(`${prefix}user-sessions:u1`)).toEqual(['h']);
      expect(await admin.pttl(`${prefix}user-sessions:u1`)).toBeGreaterThan(59_000);
    });
  });
} else {
  const reason = `no Redis at ${url} and REDIS_URL unset`;
  console.warn(`Skipping the redis adapter contract: ${reason}`);
  describe.skip(`redis adapters contract (skipped: ${reason})`, () => {
    it('needs a reachable Redis', () => undefined);
  });
}
