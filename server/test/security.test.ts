import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createStore, NEARBY_ADDRESS, newKey, registerUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/** Abuse limits, security headers, CORS and body size, on real listening servers. */
let prod: TestPlatform;
let prodApi: Api;

beforeAll(async () => {
  // The production limits, behind a trusted proxy so each test can be its own client address.
  prod = await startTestPlatform({ TRUST_PROXY: 'true' }, { productionRateLimits: true });
  prodApi = apiClient(prod.baseUrl);
});
afterAll(() => prod?.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

let nextIp = 1;
const newIp = () => `203.0.113.${nextIp++}`;
const from = (ip: string) => ({ 'x-forwarded-for': ip });
const email = () => `rl-${randomBytes(5).toString('hex')}@test.local`;

function expectRateLimited(res: { status: number; body: any; headers: Headers }, maxSec: number) {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('RATE_LIMITED');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSec);
  expect(res.body.error.details).toEqual({ retryAfterSeconds: retryAfter });
}

describe('rate limits with the production defaults', () => {
  it('uses 10 logins per e-mail and IP per 15 min, 20 sign-ups per IP per hour, 600 API calls per IP per minute', () => {
    const expected = {
      api: { max: 600, windowMs: 60_000 },
      login: { max: 10, windowMs: 900_000 },
      register: { max: 20, windowMs: 3_600_000 },
    };
    expect(loadConfig({}).rateLimits).toEqual(expected);
    expect(prod.config.rateLimits).toEqual(expected);
  });

  it('stops a password-guessing run on one account after 10 tries with 429 and Retry-After', async () => {
    const ip = newIp();
    const victim = email();
    await prodApi('POST', '/api/v1/auth/register', {
      headers: from(newIp()),
      body: { email: victim, password: 'correct-horse', name: 'Victim', role: 'customer' },
    });
    const attempt = (password: string, mail = victim, at = ip) =>
      prodApi('POST', '/api/v1/auth/login', { headers: from(at), body: { email: mail, password } });
    for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}`)).status).toBe(401);
    expectRateLimited(await attempt('guess-10'), 900);
    // Even the right password waits: the limit is on attempts, not on failures.
    expectRateLimited(await attempt('correct-horse'), 900);
    // The e-mail is counted in any letter case.
    expectRateLimited(await attempt('guess-11', victim.toUpperCase()), 900);
    // Other accounts from that address, and the owner from elsewhere, are not affected.
    expect((await attempt('nope-nope', email())).status).toBe(401);
    expect((await attempt('correct-horse', victim, newIp())).status).toBe(200);
  });

  it('refuses the 21st sign-up from one address within the hour, and creates nothing', async () => {
    const ip = newIp();
    const signUp = (at = ip) =>
      prodApi('POST', '/api/v1/auth/register', {
        headers: from(at),
        body: { email: email(), password: 'password123', name: 'Bulk', role: 'customer' },
      });
    for (let i = 0; i < 20; i++) expect((await signUp()).status).toBe(201);
    const users = async () => (await prod.infra.db.query('SELECT 1 FROM users')).rowCount;
    const before = await users();
    expectRateLimited(await signUp(), 3_600);
    expect(await users()).toBe(before);
    expect((await signUp(newIp())).status).toBe(201);
  });

  it('answers 429 to the 601st API call of one address within a minute, and only to it', async () => {
    const ip = newIp();
    for (let i = 0; i < 600; i++) {
      const res = await prodApi('GET', '/api/v1/auth/me', { headers: from(ip) });
      expect(res.status).toBe(401);
    }
    const limited = await prodApi('GET', '/api/v1/merchants', { headers: from(ip) });
    expectRateLimited(limited, 60);
    expect(limited.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await prodApi('GET', '/api/v1/merchants', { headers: from(newIp()) })).status).toBe(
      200,
    );
    // Health checks are not API calls: a load balancer behind one address keeps probing.
    expect((await prodApi('GET', '/health', { headers: from(ip) })).status).toBe(200);
  });
});

describe('rate limits as configured', () => {
  let tp: TestPlatform;
  let api: Api;
  beforeAll(async () => {
    tp = await startTestPlatform({ RATE_LIMIT_LOGIN: '3/1s', RATE_LIMIT_REGISTER: '2/1m' });
    api = apiClient(tp.baseUrl);
  });
  afterAll(() => tp?.stop());

  const login = (mail: string, headers: Record<string, string> = {}) =>
    api('POST', '/api/v1/auth/login', { headers, body: { email: mail, password: 'wrong-one' } });

  it('lets the client in again once the window has passed', async () => {
    const mail = email();
    for (let i = 0; i < 3; i++) expect((await login(mail)).status).toBe(401);
    expectRateLimited(await login(mail), 1);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await login(mail)).status).toBe(401);
  });

  it('ignores X-Forwarded-For from clients unless TRUST_PROXY says to believe it', async () => {
    expect(tp.config.trustProxy).toBe(false);
    const mail = email();
    for (let i = 0; i < 3; i++) expect((await login(mail, from(newIp()))).status).toBe(401);
    expectRateLimited(await login(mail, from(newIp())), 1);
  });

  it('keeps counting in-process when the shared limiter fails', async () => {
    const hit = vi
      .spyOn(tp.infra.kv.rateLimiter, 'hit')
      .mockRejectedValue(new Error('Connection is closed.'));
    const signUp = () =>
      api('POST', '/api/v1/auth/register', {
        body: { email: email(), password: 'password123', name: 'Fallback', role: 'customer' },
      });
    expect((await signUp()).status).toBe(201);
    expect((await signUp()).status).toBe(201);
    expectRateLimited(await signUp(), 60);
    expect(hit).toHaveBeenCalled();
  });

  it('rejects a malformed limit at start-up with a clear message', () => {
    expect(() => loadConfig({ RATE_LIMIT_LOGIN: '10 per minute' })).toThrow(/RATE_LIMIT_LOGIN/);
    expect(loadConfig({ RATE_LIMIT_API: 'off' }).rateLimits.api).toBeNull();
  });
});

describe('security headers', () => {
  const csp = (res: { headers: Headers }) =>
    Object.fromEntries(
      (res.headers.get('content-security-policy') ?? '')
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name = '', ...values]) => [name, values]),
    );

  it('sends a CSP for the web app (self + the map tile host for images) and the usual hardening headers', async () => {
    for (const res of [
      await prodApi('GET', '/api/v1/merchants'),
      await prodApi('GET', '/api/v1/no-such-route'),
      await prodApi('GET', '/docs/'),
    ]) {
      const policy = csp(res);
      expect(policy['default-src']).toEqual(["'self'"]);
      expect(policy['script-src']).toEqual(["'self'"]);
      expect(policy['connect-src']).toEqual(["'self'"]);
      expect(policy['img-src']).toEqual(["'self'", 'data:', 'https://tile.openstreetmap.org']);
      expect(policy['object-src']).toEqual(["'none'"]);
      expect(policy['frame-ancestors']).toEqual(["'none'"]);
      expect(policy).not.toHaveProperty('upgrade-insecure-requests');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('strict-transport-security')).toBeNull();
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('keeps the OpenAPI UI working under that CSP: no inline scripts', async () => {
    const page = await prodApi('GET', '/docs/');
    expect(page.status).toBe(200);
    const scripts = String(page.body).match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\ssrc=/);
  });

  it('follows MAP_TILE_URL, and adds HSTS and upgrade-insecure-requests on HTTPS deployments', async () => {
    const tp = await startTestPlatform({
      MAP_TILE_URL: 'https://{s}.tiles.example.org/{z}/{x}/{y}.png',
      COOKIE_SECURE: 'true',
    });
    try {
      const res = await apiClient(tp.baseUrl)('GET', '/health');
      expect(csp(res)['img-src']).toEqual(["'self'", 'data:', 'https://*.tiles.example.org']);
      expect(csp(res)).toHaveProperty('upgrade-insecure-requests');
      expect(res.headers.get('strict-transport-security')).toBe(
        'max-age=31536000; includeSubDomains',
      );
    } finally {
      await tp.stop();
    }
  });
});

describe('CORS', () => {
  const preflight = (api: Api, origin: string) =>
    api('OPTIONS', '/api/v1/orders', {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-idempotency-key',
      },
    });

  it('allows no other origin by default (same-origin only)', async () => {
    const pre = await preflight(prodApi, 'https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const get = await prodApi('GET', '/api/v1/merchants', {
      headers: { origin: 'https://evil.example' },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    expect(get.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows exactly the origins in CORS_ORIGINS, with credentials and the API headers', async () => {
    const tp = await startTestPlatform({
      CORS_ORIGINS: 'https://app.example.com, https://ops.example.com',
    });
    try {
      const api = apiClient(tp.baseUrl);
      const ok = await preflight(api, 'https://app.example.com');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      expect(ok.headers.get('access-control-allow-headers')).toContain('x-idempotency-key');
      expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
      const get = await api('GET', '/api/v1/merchants', {
        headers: { origin: 'https://ops.example.com' },
      });
      expect(get.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
      expect(get.headers.get('access-control-expose-headers')).toContain('retry-after');
      for (const origin of ['https://evil.example', 'https://app.example.com.evil.example']) {
        expect(
          (await preflight(api, origin)).headers.get('access-control-allow-origin'),
        ).toBeNull();
      }
    } finally {
      await tp.stop();
    }
  });

  it('refuses an origin list it cannot match exactly at start-up', () => {
    for (const bad of ['*', 'https://app.example.com/', 'app.example.com', 'https://a.com/path']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS/);
    }
  });
});

describe('body size', () => {
  it('answers 413 PAYLOAD_TOO_LARGE to an order over BODY_LIMIT_BYTES and writes nothing', async () => {
    const tp = await startTestPlatform({ BODY_LIMIT_BYTES: '2048' });
    try {
      const api = apiClient(tp.baseUrl);
      const store = await createStore(tp, api);
      const customer = await registerUser(api, 'customer');
      const count = async () =>
        Number(
          (
            await tp.infra.db.query<{ n: string }>(
              `SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM idempotency_keys) AS n`,
            )
          ).rows[0]!.n,
        );
      const res = await api('POST', '/api/v1/orders', {
        token: customer.token,
        headers: { 'x-idempotency-key': newKey() },
        body: {
          merchantId: store.id,
          items: [{ menuItemId: store.items[0]!.id, quantity: 1 }],
          ...NEARBY_ADDRESS,
          notes: 'x'.repeat(3_000),
        },
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await count()).toBe(0);
    } finally {
      await tp.stop();
    }
  });
});

describe('inputs the fuzzer found answering 5xx (regressions)', () => {
  it('answers a path parameter over 100 characters and a malformed URL in the API error shape', async () => {
    const long = await prodApi('POST', `/api/v1/orders/${'x'.repeat(150)}/cancel`, { body: {} });
    expect(long.status).toBe(414);
    expect(long.body).toEqual({
      error: { code: 'MALFORMED_REQUEST', message: 'A path segment is too long' },
    });
    const bad = await prodApi('GET', '/api/v1/orders/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('MALFORMED_REQUEST');
  });

  it('searches around coordinates of 1e-323 without a PostgreSQL underflow', async () => {
    const res = await prodApi('GET', '/api/v1/merchants?lat=5e-323&lng=-4e-323&radiusKm=1');
    expect(res.status).toBe(200);
  });

  it('refuses a driver beyond the geo index latitude with 422 and leaves them offline', async () => {
    const driver = await registerUser(prodApi, 'driver');
    const res = await prodApi('POST', '/api/v1/driver/go-online', {
      token: driver.token,
      body: { lat: 89.99999999999997, lng: 5.4e-323 },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('LOCATION_REJECTED');
    const { rows } = await prod.infra.db.query('SELECT status FROM drivers WHERE id = $1', [
      driver.id,
    ]);
    expect(rows).toEqual([{ status: 'offline' }]);
  });

  it('refuses a NUL character in a search with 400 instead of a database error', async () => {
    const res = await prodApi('GET', '/api/v1/merchants?category=nul%00byte');
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0].path).toBe('querystring.category');
  });
});
