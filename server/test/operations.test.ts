import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, placeOrder, registerUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let api: Api;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
});
afterAll(() => tp?.stop());

const metricsText = async (): Promise<string> => {
  const res = await api<string>('GET', '/metrics');
  expect(res.status).toBe(200);
  return res.body;
};

/** The value of one sample line (`name{labels} value`), 0 when the series does not exist yet. */
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

const HEALTH_COUNT =
  'delivery_http_request_duration_seconds_count{method="GET",route="/health",status="200"}';

describe('request ids', () => {
  it('returns a request id on every response, keeping a well-formed one the caller sent', async () => {
    const mine = await api('GET', '/health', { headers: { 'x-request-id': 'client-req-1234' } });
    expect(mine.headers.get('x-request-id')).toBe('client-req-1234');
    const made = await api('GET', '/nope', { headers: { 'x-request-id': '<script>' } });
    expect(made.status).toBe(404);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('health', () => {
  it('answers liveness with ok', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports readiness with the state of each dependency', async () => {
    const res = await api('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    if (tp.infra.db.kind === 'pglite') expect(res.body.postgres).toMatch(/^embedded/);
    else expect(res.body.postgres).toBe('connected');
    if (tp.infra.kv.kind === 'memory') expect(res.body.redis).toMatch(/^embedded/);
    else expect(res.body.redis).toBe('connected');
    expect(typeof res.body.uptimeSeconds).toBe('number');
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    for (const state of Object.values(res.body.circuitBreakers)) {
      expect(['closed', 'open', 'half-open']).toContain(state);
    }
    expect(res.body).not.toHaveProperty('errors');
  });

  it('is unavailable (503) once the database is gone, without crashing', async () => {
    const tp2 = await startTestPlatform();
    try {
      const api2 = apiClient(tp2.baseUrl);
      expect((await api2('GET', '/health/ready')).status).toBe(200);

      await tp2.infra.db.close();
      const res = await api2('GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.postgres).toBe('disconnected');
      expect(res.body.redis).not.toBe('disconnected');
      expect(res.body.errors).toEqual([expect.stringMatching(/^postgres: /)]);
      // Liveness does not depend on the database: the process is still serving.
      expect((await api2('GET', '/health')).status).toBe(200);
    } finally {
      try {
        await tp2.stop(); // closes the database a second time
      } catch {
        // a double close may reject; the server itself is already shut down
      }
    }
  });
});

describe('shutdown', () => {
  it('names the step under way while it closes, and none before or after', async () => {
    const tp2 = await startTestPlatform();
    expect(tp2.closing).toBeNull();
    const stopping = tp2.stop();
    // The first step starts at once: the HTTP server stops taking requests.
    expect(tp2.closing).toBe('http');
    await stopping;
    expect(tp2.closing).toBeNull();
  });
});

describe('metrics', () => {
  it('exposes request durations by route and the orders counter', async () => {
    const before = sample(await metricsText(), HEALTH_COUNT);
    expect((await api('GET', '/health')).status).toBe(200);
    // The duration is observed once the response has been sent.
    await expect.poll(async () => sample(await metricsText(), HEALTH_COUNT)).toBe(before + 1);

    const text = await metricsText();
    expect(text).toMatch(
      /^delivery_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/health",status="200"\} \d+$/m,
    );
    expect(text).toContain('# TYPE delivery_orders_created_total counter');

    const ordersBefore = sample(text, 'delivery_orders_created_total');
    const customer = await registerUser(api, 'customer');
    const store = await createStore(tp, api);
    await placeOrder(api, customer, store);
    expect(sample(await metricsText(), 'delivery_orders_created_total')).toBe(ordersBefore + 1);
  });

  it('answers in the Prometheus text format', async () => {
    const res = await fetch(`${tp.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

describe('API documentation', () => {
  it('serves an OpenAPI 3 document of the HTTP contract', async () => {
    const res = await api('GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/orders',
        '/api/v1/auth/login',
        '/api/v1/merchants/{id}/menu',
        '/api/v1/merchant/orders/{id}/confirm',
      ]),
    );
    const create = res.body.paths['/api/v1/orders'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['merchantId', 'items']));
  });

  it('serves the Swagger UI page', async () => {
    const res = await fetch(`${tp.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/swagger-ui/i);
  });
});

describe('error responses', () => {
  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const res = await api('GET', '/api/v1/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('/api/v1/no-such-route') },
    });
  });

  it('rejects a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    expect(tp.config.bodyLimitBytes).toBe(65_536);
    const rawBody = JSON.stringify({ email: 'big@test.local', password: 'x'.repeat(100_000) });
    expect(rawBody.length).toBeGreaterThan(100_000);
    const res = await api('POST', '/api/v1/auth/login', { rawBody });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it('rejects a body that is not JSON with a 4xx in the error shape', async () => {
    const res = await api('POST', '/api/v1/auth/login', {
      rawBody: 'email=a@test.local&password=password123',
      headers: { 'content-type': 'text/plain' },
    });
    expect([400, 415]).toContain(res.status);
    expect(res.body).toEqual({
      error: expect.objectContaining({
        code: expect.stringMatching(/^(VALIDATION_FAILED|MALFORMED_REQUEST)$/),
        message: expect.any(String),
      }),
    });
  });

  it('rejects a content type it has no parser for with 415', async () => {
    const res = await api('POST', '/api/v1/auth/login', {
      rawBody: '<login><email>a@test.local</email></login>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      error: { code: 'MALFORMED_REQUEST', message: expect.any(String) },
    });
  });
});

describe('database gauges', () => {
  it('reports online drivers and active orders by status at scrape time', async () => {
    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', {
      token: driver.token,
      body: { lat: 49.41, lng: 8.69 },
    });
    const store = await createStore(tp, api);
    const customer = await registerUser(api, 'customer');
    const before = sample(await metricsText(), 'delivery_active_orders{status="pending"}');
    await placeOrder(api, customer, store);
    const text = await metricsText();
    expect(sample(text, 'delivery_online_drivers')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'delivery_active_orders{status="pending"}')).toBe(before + 1);
  });

  it('reports the PostgreSQL pool: open, idle and waiting connections', async () => {
    const text = await metricsText();
    const series = (state: string) => `delivery_db_pool_connections{state="${state}"}`;
    if (tp.infra.db.kind === 'pglite') {
      expect(text).not.toContain('delivery_db_pool_connections{'); // one in-process session
      return;
    }
    const total = sample(text, series('total'));
    expect(total).toBeGreaterThanOrEqual(1); // the scrape's own queries opened one at least
    expect(sample(text, series('idle'))).toBeLessThanOrEqual(total);
    expect(sample(text, series('waiting'))).toBeGreaterThanOrEqual(0);
    expect(text).toContain(`${series('waiting')} `);
  });
});
