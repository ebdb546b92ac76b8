import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../platform/clock.ts';
import { compareEventIds, type GeoPoint, type KeyValueAdapters } from './ports.ts';

export interface AdapterFixture {
  adapters: KeyValueAdapters;
  /** When given, TTL tests move it; otherwise they really wait (TTLs stay at a few 100 ms). */
  clock?: ManualClock;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A bus handler that records messages and lets a test await the next one. */
function recorder() {
  const messages: string[] = [];
  let waiters: (() => void)[] = [];
  const handler = (m: string) => {
    messages.push(m);
    for (const w of waiters) w();
    waiters = [];
  };
  const receive = async (count: number) => {
    const deadline = Date.now() + 2_000;
    while (messages.length < count) {
      if (Date.now() > deadline) throw new Error(`got ${messages.length} of ${count} messages`);
      await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(50)]);
    }
    return messages;
  };
  return { handler, messages, receive };
}

// Independent of the adapters' formula (plain haversine, mean Earth radius).
function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const r = (d: number) => (d * Math.PI) / 180;
  const h =
    Math.sin(r(b.lat - a.lat) / 2) ** 2 +
    Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(r(b.lng - a.lng) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
}

export function adapterContract(name: string, make: () => Promise<AdapterFixture>): void {
  describe(`${name} adapters contract`, () => {
    let fixture: AdapterFixture;
    let a: KeyValueAdapters;
    const elapse = async (ms: number) => {
      if (fixture.clock) fixture.clock.advance(ms);
      else await sleep(ms);
    };

    beforeEach(async () => {
      fixture = await make();
      a = fixture.adapters;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('reports its kind and answers ping', async () => {
      expect(a.kind).toBe(name);
      await expect(a.ping()).resolves.toBeUndefined();
    });

    describe('sessions', () => {
      const alice = {
        userId: 'u-alice',
        role: 'customer' as const,
        createdAt: 1_700_000_000_000,
        expiresAt: 1_700_086_400_000,
      };
      const bob = {
        userId: 'u-bob',
        role: 'driver' as const,
        createdAt: 1_700_000_000_001,
        expiresAt: 1_700_086_400_001,
      };

      it('creates, gets and deletes', async () => {
        await a.sessions.create('h1', alice, 60_000);
        expect(await a.sessions.get('h1')).toEqual(alice);
        expect(await a.sessions.get('nope')).toBeNull();
        await a.sessions.delete('h1');
        expect(await a.sessions.get('h1')).toBeNull();
        await expect(a.sessions.delete('h1')).resolves.toBeUndefined();
      });

      it('expires after its TTL', async () => {
        await a.sessions.create('h1', alice, 200);
        await elapse(100);
        expect(await a.sessions.get('h1')).toEqual(alice);
        await elapse(200);
        expect(await a.sessions.get('h1')).toBeNull();
      });

      it('deleteAllForUser revokes every session of that user only', async () => {
        await a.sessions.create('a1', alice, 60_000);
        await a.sessions.create('a2', alice, 60_000);
        await a.sessions.create('b1', bob, 60_000);
        await a.sessions.delete('a2');
        await a.sessions.create('a3', alice, 60_000);
        expect(await a.sessions.deleteAllForUser('u-alice')).toBe(2);
        expect(await a.sessions.get('a1')).toBeNull();
        expect(await a.sessions.get('a3')).toBeNull();
        expect(await a.sessions.get('b1')).toEqual(bob);
        expect(await a.sessions.deleteAllForUser('u-alice')).toBe(0);
      });

      it('deleteAllForUser does not count expired sessions', async () => {
        await a.sessions.create('short', alice, 100);
        await a.sessions.create('long', alice, 60_000);
        await elapse(200);
        expect(await a.sessions.deleteAllForUser('u-alice')).toBe(1);
        expect(await a.sessions.get('long')).toBeNull();
      });
    });

    describe('geo', () => {
      const center = { lat: 48.8566, lng: 2.3522 };
      const near = { lat: 48.8656, lng: 2.3522, at: 1_000 }; // ~1 km north
      const mid = { lat: 48.8566, lng: 2.3932, at: 1_000 }; // ~3 km east
      const far = { lat: 49.2, lng: 2.6, at: 1_000 }; // ~42 km

      it('sets and gets exact positions', async () => {
        expect(await a.geo.set('d1', near, 60_000)).toBe(true);
        expect(await a.geo.get('d1')).toEqual(near);
        expect(await a.geo.get('nope')).toBeNull();
        await expect(a.geo.set('bad', { lat: 89, lng: 0, at: 1 }, 60_000)).rejects.toThrow();
      });

      it('answers each of many positions set at once on its own', async () => {
        await a.geo.set('d2', { ...near, at: 5_000 }, 60_000);
        const answers = await Promise.allSettled([
          a.geo.set('d1', near, 60_000),
          a.geo.set('bad', { lat: 89, lng: 0, at: 1 }, 60_000),
          a.geo.set('d2', { ...mid, at: 4_000 }, 60_000), // older than the stored one
          a.geo.set('d3', mid, 60_000),
        ]);
        expect(answers.map((r) => (r.status === 'fulfilled' ? r.value : 'refused'))).toEqual([
          true,
          'refused',
          false,
          true,
        ]);
        expect(await a.geo.get('d1')).toEqual(near);
        expect(await a.geo.get('d2')).toEqual({ ...near, at: 5_000 });
        expect(await a.geo.get('d3')).toEqual(mid);
        expect(await a.geo.get('bad')).toBeNull();
        expect(await a.geo.size()).toBe(3);
      });

      it('keeps ids with spaces and line breaks, and exact fractional coordinates', async () => {
        const id = 'driver one\nof two ';
        const exact = { lat: 48.85661398765, lng: -0.000001, at: 1_764_417_600_123 };
        expect(await a.geo.set(id, exact, 60_000)).toBe(true);
        expect(await a.geo.get(id)).toEqual(exact);
        expect((await a.geo.search(exact, 1, 10)).map((h) => h.id)).toEqual([id]);
      });

      it('last write wins by `at`', async () => {
        expect(await a.geo.set('d1', { ...near, at: 2_000 }, 60_000)).toBe(true);
        expect(await a.geo.set('d1', { ...mid, at: 1_500 }, 60_000)).toBe(false);
        expect(await a.geo.get('d1')).toEqual({ ...near, at: 2_000 });
        expect(await a.geo.set('d1', { ...mid, at: 2_500 }, 60_000)).toBe(true);
        expect(await a.geo.get('d1')).toEqual({ ...mid, at: 2_500 });
      });

      it('searches nearest first within the radius, up to the limit', async () => {
        await a.geo.set('far', far, 60_000);
        await a.geo.set('mid', mid, 60_000);
        await a.geo.set('near', near, 60_000);
        const hits = await a.geo.search(center, 10, 10);
        expect(hits.map((h) => h.id)).toEqual(['near', 'mid']);
        expect(hits[0]).toMatchObject(near);
        for (const [hit, point] of [
          [hits[0], near],
          [hits[1], mid],
        ] as const) {
          const expected = haversineKm(center, point);
          expect(Math.abs((hit?.distanceKm ?? 0) - expected) / expected).toBeLessThan(0.01);
        }
        expect((await a.geo.search(center, 100, 10)).map((h) => h.id)).toEqual([
          'near',
          'mid',
          'far',
        ]);
        expect((await a.geo.search(center, 100, 2)).map((h) => h.id)).toEqual(['near', 'mid']);
        expect(await a.geo.size()).toBe(3);
      });

      it('removes an entry', async () => {
        await a.geo.set('near', near, 60_000);
        await a.geo.set('mid', mid, 60_000);
        await a.geo.remove('near');
        expect(await a.geo.get('near')).toBeNull();
        expect((await a.geo.search(center, 10, 10)).map((h) => h.id)).toEqual(['mid']);
        expect(await a.geo.size()).toBe(1);
      });

      it('drops an entry from get, search and size once its TTL passes', async () => {
        await a.geo.set('short', near, 200);
        await a.geo.set('long', mid, 60_000);
        await a.geo.set('renewed', { ...near, lng: 2.36 }, 200);
        await elapse(150);
        await a.geo.set('renewed', { ...near, lng: 2.36, at: 2_000 }, 200);
        await elapse(100);
        expect(await a.geo.get('short')).toBeNull();
        // size first: it must not rely on a search having purged expired entries.
        expect(await a.geo.size()).toBe(2);
        expect((await a.geo.search(center, 10, 10)).map((h) => h.id)).toEqual(['renewed', 'long']);
      });
    });

    describe('bus', () => {
      it('delivers a publish to every handler of the channel', async () => {
        const one = recorder();
        const two = recorder();
        await a.bus.subscribe('orders', one.handler);
        await a.bus.subscribe('orders', two.handler);
        await a.bus.publish('orders', 'hello');
        expect(await one.receive(1)).toEqual(['hello']);
        expect(await two.receive(1)).toEqual(['hello']);
      });

      it('keeps other handlers when one unsubscribes', async () => {
        const one = recorder();
        const two = recorder();
        const offOne = await a.bus.subscribe('orders', one.handler);
        await a.bus.subscribe('orders', two.handler);
        await offOne();
        await a.bus.publish('orders', 'x');
        expect(await two.receive(1)).toEqual(['x']);
        // Both handlers of a channel are dispatched together, so one was skipped, not late.
        expect(one.messages).toEqual([]);
      });

      it('stops delivery once every handler left, and resubscribes afterwards', async () => {
        const gone = recorder();
        const control = recorder();
        const off = await a.bus.subscribe('orders', gone.handler);
        await a.bus.subscribe('control', control.handler);
        await off();
        await a.bus.publish('orders', 'lost');
        await a.bus.publish('control', 'marker');
        // Publishes are delivered in order, so once the marker arrived "lost" would have too.
        expect(await control.receive(1)).toEqual(['marker']);
        expect(gone.messages).toEqual([]);
        const back = recorder();
        await a.bus.subscribe('orders', back.handler);
        await a.bus.publish('orders', 'again');
        expect(await back.receive(1)).toEqual(['again']);
      });

      it('isolates channels', async () => {
        const first = recorder();
        const second = recorder();
        await a.bus.subscribe('a', first.handler);
        await a.bus.subscribe('b', second.handler);
        await a.bus.publish('a', 'to-a');
        await a.bus.publish('b', 'to-b');
        expect(await second.receive(1)).toEqual(['to-b']);
        expect(await first.receive(1)).toEqual(['to-a']);
      });
    });

    describe('events', () => {
      const appendAll = async (stream: string, payloads: string[]) => {
        const ids: string[] = [];
        for (const p of payloads) ids.push(await a.events.append(stream, p, 60_000));
        return ids;
      };

      it('issues strictly increasing `<ms>-<seq>` ids', async () => {
        const ids = await appendAll('s', ['0', '1', '2', '3', '4']);
        for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
        for (let i = 1; i < ids.length; i++) {
          expect(compareEventIds(ids[i - 1] ?? '', ids[i] ?? '')).toBeLessThan(0);
        }
      });

      it('reads all, after an id, and up to a limit, oldest first', async () => {
        const ids = await appendAll('s', ['0', '1', '2', '3', '4']);
        const all = await a.events.readAfter('s', null, 100);
        expect(all).toEqual(ids.map((id, i) => ({ id, payload: String(i) })));
        const later = await a.events.readAfter('s', ids[1] ?? '', 100);
        expect(later.map((e) => e.payload)).toEqual(['2', '3', '4']);
        expect((await a.events.readAfter('s', null, 2)).map((e) => e.payload)).toEqual(['0', '1']);
        expect(await a.events.readAfter('s', ids[4] ?? '', 100)).toEqual([]);
        await expect(a.events.readAfter('s', 'garbage', 10)).rejects.toThrow();
      });

      it('deletes the entry a new one replaces, and only that one', async () => {
        const [alert = '', first = ''] = await appendAll('f', ['alert', 'snapshot 1']);
        const second = await a.events.append('f', 'snapshot 2', 60_000, { replaces: first });
        const third = await a.events.append('f', 'snapshot 3', 60_000, { replaces: second });
        const payloads = async () =>
          (await a.events.readAfter('f', null, 10)).map((e) => e.payload);
        expect(await payloads()).toEqual(['alert', 'snapshot 3']);
        expect((await a.events.readAfter('f', alert, 10)).map((e) => e.id)).toEqual([third]);
        expect(compareEventIds(third, second)).toBeGreaterThan(0);
        // Replacing an entry that is gone only appends.
        await a.events.append('f', 'snapshot 4', 60_000, { replaces: first });
        expect(await payloads()).toEqual(['alert', 'snapshot 3', 'snapshot 4']);
        await expect(
          a.events.append('f', 'bad', 60_000, { replaces: 'garbage' }),
        ).rejects.toThrow();
        expect(await payloads()).toEqual(['alert', 'snapshot 3', 'snapshot 4']);
      });

      it('isolates streams', async () => {
        await appendAll('x', ['x1', 'x2']);
        await appendAll('y', ['y1']);
        expect((await a.events.readAfter('x', null, 10)).map((e) => e.payload)).toEqual([
          'x1',
          'x2',
        ]);
        expect((await a.events.readAfter('y', null, 10)).map((e) => e.payload)).toEqual(['y1']);
        expect(await a.events.readAfter('z', null, 10)).toEqual([]);
      });

      it('keeps the retention window and forgets an idle stream after it', async () => {
        await a.events.append('s', 'old', 200);
        await elapse(100);
        expect((await a.events.readAfter('s', null, 10)).map((e) => e.payload)).toEqual(['old']);
        await elapse(200);
        expect(await a.events.readAfter('s', null, 10)).toEqual([]);
      });
    });

    describe('leases', () => {
      it('is held by one holder at a time', async () => {
        expect(await a.leases.holder('job')).toBeNull();
        expect(await a.leases.acquire('job', 'A', 60_000)).toBe(true);
        expect(await a.leases.acquire('job', 'B', 60_000)).toBe(false);
        expect(await a.leases.holder('job')).toBe('A');
      });

      it('is renewed by its holder', async () => {
        await a.leases.acquire('job', 'A', 300);
        await elapse(200);
        expect(await a.leases.acquire('job', 'A', 300)).toBe(true);
        await elapse(200);
        expect(await a.leases.holder('job')).toBe('A');
        expect(await a.leases.acquire('job', 'B', 300)).toBe(false);
      });

      it('is released only by its holder', async () => {
        await a.leases.acquire('job', 'A', 60_000);
        await a.leases.release('job', 'B');
        expect(await a.leases.holder('job')).toBe('A');
        await a.leases.release('job', 'A');
        expect(await a.leases.holder('job')).toBeNull();
        expect(await a.leases.acquire('job', 'B', 60_000)).toBe(true);
      });

      it('is freed when it expires', async () => {
        await a.leases.acquire('job', 'A', 200);
        await elapse(300);
        expect(await a.leases.holder('job')).toBeNull();
        expect(await a.leases.acquire('job', 'B', 60_000)).toBe(true);
        expect(await a.leases.holder('job')).toBe('B');
      });
    });

    describe('cache', () => {
      it('sets, overwrites, gets and deletes', async () => {
        expect(await a.cache.get('k')).toBeNull();
        await a.cache.set('k', 'v1', 60_000);
        expect(await a.cache.get('k')).toBe('v1');
        await a.cache.set('k', 'v2', 60_000);
        expect(await a.cache.get('k')).toBe('v2');
        await a.cache.delete('k');
        expect(await a.cache.get('k')).toBeNull();
      });

      it('expires after its TTL', async () => {
        await a.cache.set('k', 'v', 200);
        await elapse(100);
        expect(await a.cache.get('k')).toBe('v');
        await elapse(200);
        expect(await a.cache.get('k')).toBeNull();
      });
    });

    describe('rate limiter', () => {
      it('counts hits per key within a window and starts again after it', async () => {
        expect(await a.rateLimiter.hit('ip:1', 300)).toMatchObject({ count: 1 });
        expect((await a.rateLimiter.hit('ip:1', 300)).count).toBe(2);
        expect((await a.rateLimiter.hit('ip:2', 300)).count).toBe(1);
        const third = await a.rateLimiter.hit('ip:1', 300);
        expect(third.count).toBe(3);
        expect(third.resetInMs).toBeGreaterThan(0);
        expect(third.resetInMs).toBeLessThanOrEqual(300);
        await elapse(400);
        expect((await a.rateLimiter.hit('ip:1', 300)).count).toBe(1);
      });

      it('does not extend the window with later hits', async () => {
        await a.rateLimiter.hit('k', 300);
        // The window began before the first hit answered, and the second hit is counted after
        // it is sent: so at most 300 ms minus the time between those two moments is left
        // (+1 for whole milliseconds; a timer may fire a little early, so it is measured).
        const firstAnswered = performance.now();
        await elapse(200);
        const secondSent = performance.now();
        const later = await a.rateLimiter.hit('k', 300);
        expect(later.count).toBe(2);
        expect(later.resetInMs).toBeLessThanOrEqual(300 - (secondSent - firstAnswered) + 1);
        expect(later.resetInMs).toBeLessThan(150); // an extended window would have ~300 left
      });
    });
  });
}
