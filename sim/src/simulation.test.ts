import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../server/test/platform.ts';
import { Simulation } from './simulation.ts';

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

  it('delivers both orders of a tiny simulation', async () => {
    const sim = new Simulation({
      target: platform.baseUrl,
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
      prefix: `it${Date.now().toString(36)}`,
      progressEveryMs: 0,
      log: () => undefined,
    });
    const summary = await sim.run();
    expect(summary.orders).toMatchObject({ placed: 2, matched: 2, delivered: 2, open: 0 });
    expect(summary.latencyMs.match.count).toBe(2);
    expect(summary.locations.acked).toBeGreaterThan(0);
    expect(summary.counters['ws.unexpected'] ?? 0).toBe(0);
  }, 30_000);
});
