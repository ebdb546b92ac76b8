import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoIndex } from '../src/adapters/ports.ts';
import { stateOf } from '../src/dispatch/breaker.ts';
import { createDispatchService } from '../src/dispatch/dispatch.service.ts';
import { registry } from '../src/metrics/metrics.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createStore, placeOrder, registerUser } from './factories.ts';
import { apiClient } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * The matching breaker around the geo index: while the index fails, dispatch fails fast and
 * leaves orders queued; once it recovers, the breaker half-opens, closes and matching resumes.
 * The failing index stands in for an unreachable Redis.
 */
let tp: TestPlatform;

beforeAll(async () => {
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
});
afterAll(() => tp?.stop());

describe('the driver-matching circuit breaker', () => {
  it('opens on a failing geo index, keeps the order queued, then half-opens and closes', async () => {
    const api = apiClient(tp.baseUrl);
    const store = await createStore(tp, api);
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, { token: store.owner.token });

    let down = true;
    let searches = 0;
    const real = tp.infra.kv.geo;
    const flaky: GeoIndex = {
      ...real,
      get: (id) => real.get(id),
      search: async (...args) => {
        searches += 1;
        if (down)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
            code: 'ECONNREFUSED',
          });
        return real.search(...args);
      },
    };
    const dispatch = createDispatchService({
      db: tp.infra.db,
      geo: flaky,
      publisher: tp.services.publisher,
      clock: tp.infra.clock,
      settings: { ...tp.config.dispatch, enabled: false },
      log: createLogger({ logLevel: 'silent', instanceId: 'breaker-test' }),
      breaker: {
        timeoutMs: 1_000,
        errorThresholdPercentage: 50,
        volumeThreshold: 3,
        resetTimeoutMs: 300,
      },
    });

    for (let i = 0; i < 3; i++) await expect(dispatch.tick()).rejects.toThrow(/ECONNREFUSED/);
    expect(stateOf(dispatch.breaker)).toBe('open');
    const before = searches;
    expect(await dispatch.tick()).toBe(0); // fails fast: no search while open
    expect(searches).toBe(before);
    const row = await tp.infra.db.query(
      'SELECT dispatch_status, dispatch_attempts FROM orders WHERE id = $1',
      [order.id],
    );
    expect(row.rows[0]).toEqual({ dispatch_status: 'searching', dispatch_attempts: 0 });
    expect(await registry.getSingleMetricAsString('delivery_circuit_breaker_state')).toMatch(
      /delivery_circuit_breaker_state\{name="driver-matching"\} 1/,
    );

    down = false;
    await new Promise((r) => setTimeout(r, 400));
    expect(stateOf(dispatch.breaker)).toBe('half-open');
    expect(await dispatch.tick()).toBe(1);
    expect(stateOf(dispatch.breaker)).toBe('closed');
    const after = await tp.infra.db.query('SELECT dispatch_attempts FROM orders WHERE id = $1', [
      order.id,
    ]);
    expect(after.rows[0]).toEqual({ dispatch_attempts: 1 }); // searched, found nobody, will retry
  });

  it('reports the breaker state in /health/ready', async () => {
    const res = await apiClient(tp.baseUrl)('GET', '/health/ready');
    expect(res.body.circuitBreakers).toEqual({ 'driver-matching': 'closed' });
  });
});
