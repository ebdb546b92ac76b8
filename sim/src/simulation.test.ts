import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../server/test/platform.ts';
import { USER_AGENT } from './lean-ws.ts';
import { Simulation, targetsOf, type SimOptions } from './simulation.ts';

/**
 * The simulator against a real server (embedded, or PostgreSQL + Redis when the environment
 * names them): two drivers, two orders, the world 400× faster so kitchens and rides take
 * seconds. Both orders must go all the way to the door.
 */
describe('simulation against the platform', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ SEED_DEMO: 'true', DISPATCH_TICK_MS: '200' });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it.each([
    ['the ws library', false],
    ['the lean client', true],
  ])(
    'delivers both orders of a tiny simulation, drivers on %s',
    async (_client, leanSockets) => {
      const agents: Array<string | undefined> = [];
      const onUpgrade = (req: { headers: Record<string, string | undefined> }) =>
        agents.push(req.headers['user-agent']);
      platform.app.server.on('upgrade', onUpgrade);
      const sim = new Simulation({
        ...TINY,
        target: platform.baseUrl,
        prefix: uniquePrefix(),
        leanSockets,
      });
      const summary = await sim.run().finally(() => platform.app.server.off('upgrade', onUpgrade));
      // The drivers' sockets came over the client asked for; the customers' always use ws.
      const lean = agents.filter((a) => a === USER_AGENT).length;
      // (A driver that reconnected counts twice.)
      expect(lean === 0).toBe(!leanSockets);
      expect(lean >= TINY.drivers!).toBe(leanSockets);
      expect(summary.orders).toMatchObject({ placed: 2, matched: 2, delivered: 2, open: 0 });
      expect(summary.latencyMs.match.count).toBe(2);
      expect(summary.locations.acked).toBeGreaterThan(0);
      expect(summary.counters['ws.unexpected'] ?? 0).toBe(0);
    },
    30_000,
  );

  // Two instances share a database only on PostgreSQL + Redis; CI runs this file in both modes.
  it.runIf(realMode)(
    'spreads its actors over several instances of one platform',
    async () => {
      const second = await startTestPlatform(
        { SEED_DEMO: 'true', DISPATCH_TICK_MS: '200' },
        { shareWith: platform },
      );
      try {
        const seen = [platform, second].map((p) => {
          const paths = new Set<string>();
          p.app.server.on('request', (req: { method?: string; url?: string }) =>
            paths.add(`${req.method} ${req.url?.split('?')[0]}`),
          );
          p.app.server.on('upgrade', () => paths.add('upgrade'));
          return paths;
        });
        const sim = new Simulation({
          ...TINY,
          target: `${platform.baseUrl}, ${second.baseUrl}/`,
          prefix: uniquePrefix(),
        });
        const summary = await sim.run();
        expect(summary.orders).toMatchObject({ placed: 2, delivered: 2, open: 0 });
        // Each instance had a driver going online and sockets connecting, and orders were
        // placed (two orders from two customers may both land on one instance).
        for (const paths of seen) {
          expect(paths).toContain('POST /api/v1/driver/go-online');
          expect(paths).toContain('upgrade');
        }
        expect(seen.filter((paths) => paths.has('POST /api/v1/orders')).length).toBeGreaterThan(0);
      } finally {
        await second.stop();
      }
    },
    40_000,
  );

  it('reads one or several base URLs from a target', () => {
    expect(targetsOf('http://a:1/')).toEqual(['http://a:1']);
    expect(targetsOf('http://a:1, http://b:2/,')).toEqual(['http://a:1', 'http://b:2']);
    expect(() => targetsOf(' , ')).toThrow(/no target/);
  });
});

const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const uniquePrefix = () => `it${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Two drivers, two orders, the world 400× faster so kitchens and rides take seconds. */
const TINY: Partial<SimOptions> = {
  drivers: 2,
  customers: 2,
  ordersPerMinute: 120,
  maxOrders: 2,
  durationS: 15,
  drainS: 20,
  acceptProbability: 1,
  offerDelayMs: [50, 200],
  timeScale: 400,
  locationEveryMs: 500,
  // Drivers start next to the stores, so rides are short.
  area: { lat: 49.4075, lng: 8.6925, radiusKm: 0.8 },
  seed: 'integration',
  progressEveryMs: 0,
  log: () => undefined,
};
