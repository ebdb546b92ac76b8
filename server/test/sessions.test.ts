import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { hashToken, newSessionToken } from '../src/auth/tokens.ts';
import { ManualClock } from '../src/platform/clock.ts';
import { registerUser, type TestUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * Sessions are kept in PostgreSQL (`sessions`) with Redis (or the in-process store) as the fast
 * path. These tests break the fast path on purpose and check that nobody is signed out, that
 * revocation is immediate everywhere, and that tokens stay unguessable and out of URLs and logs.
 */
let tp: TestPlatform;
let api: Api;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
});
afterAll(() => tp?.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

const me = (token: string) => api('GET', '/api/v1/auth/me', { token });
const login = (user: TestUser) =>
  api('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'password123' } });

/** What a Redis FLUSHALL or restart does to sessions, limited to this test's own keys. */
async function loseCachedSessions(platform: TestPlatform): Promise<void> {
  if (!platform.config.redisUrl) {
    (platform.infra.kv.sessions as unknown as { clear(): void }).clear();
    return;
  }
  const redis = new Redis(platform.config.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    for (const pattern of ['session:*', 'user-sessions:*']) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          platform.config.redisPrefix + pattern,
          'COUNT',
          500,
        );
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

const sessionRow = async (token: string) =>
  (
    await tp.infra.db.query<{ user_id: string; role: string; revoked_at: Date | null }>(
      'SELECT user_id, role, revoked_at FROM sessions WHERE token_hash = $1',
      [hashToken(token)],
    )
  ).rows[0];

const storeFails = () => Promise.reject(new Error('Connection is closed.'));

describe('durable sessions', () => {
  it('keeps everyone signed in when the session store loses all its data, and refills it', async () => {
    const user = await registerUser(api, 'customer');
    const other = (await login(user)).body.token as string;
    await loseCachedSessions(tp);
    expect(await tp.infra.kv.sessions.get(hashToken(user.token))).toBeNull();

    expect((await me(user.token)).status).toBe(200);
    expect((await me(other)).body.user.id).toBe(user.id);
    // The miss was read from PostgreSQL and put back in the fast path.
    expect(await tp.infra.kv.sessions.get(hashToken(user.token))).toMatchObject({
      userId: user.id,
      role: 'customer',
    });
  });

  it('writes a login to PostgreSQL and the store, and a logout revokes it in both at once', async () => {
    const user = await registerUser(api, 'driver');
    expect(await sessionRow(user.token)).toMatchObject({
      user_id: user.id,
      role: 'driver',
      revoked_at: null,
    });
    expect(await tp.infra.kv.sessions.get(hashToken(user.token))).not.toBeNull();

    expect((await api('POST', '/api/v1/auth/logout', { token: user.token })).status).toBe(204);
    expect((await sessionRow(user.token))?.revoked_at).toBeInstanceOf(Date);
    expect(await tp.infra.kv.sessions.get(hashToken(user.token))).toBeNull();
    // Not even a store that forgot everything brings a revoked session back.
    await loseCachedSessions(tp);
    expect((await me(user.token)).status).toBe(401);
  });

  it('signs a user out everywhere with logout-all, and nobody else', async () => {
    const user = await registerUser(api, 'customer');
    const bystander = await registerUser(api, 'customer');
    const devices = [user.token, (await login(user)).body.token, (await login(user)).body.token];

    const res = await api('POST', '/api/v1/auth/logout-all', { token: devices[1] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 3 });
    expect(res.headers.get('set-cookie')).toMatch(/^sid=;/);
    for (const token of devices) {
      expect((await me(token)).status).toBe(401);
      expect((await sessionRow(token))?.revoked_at).toBeInstanceOf(Date);
    }
    await loseCachedSessions(tp);
    for (const token of devices) expect((await me(token)).status).toBe(401);
    expect((await me(bystander.token)).status).toBe(200);
    // Signing in again afterwards works as usual.
    expect((await me((await login(user)).body.token)).status).toBe(200);
  });

  it('ends a session revoked behind the store’s back once its cached copy ages out', async () => {
    const short = await startTestPlatform({ SESSION_CACHE_TTL_SECONDS: '1' });
    try {
      const shortApi = apiClient(short.baseUrl);
      const user = await registerUser(shortApi, 'customer');
      await short.infra.db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1', [
        user.id,
      ]);
      await new Promise((r) => setTimeout(r, 1_200));
      expect((await shortApi('GET', '/api/v1/auth/me', { token: user.token })).status).toBe(401);
    } finally {
      await short.stop();
    }
  });
});

describe('with the session store down', () => {
  // Own platforms: after a failure the auth service skips the store for a few seconds.
  it('answers from PostgreSQL: sign-in, requests and sign-out keep working', async () => {
    const down = await startTestPlatform();
    try {
      const downApi = apiClient(down.baseUrl);
      const user = await registerUser(downApi, 'customer');
      const store = down.infra.kv.sessions;
      vi.spyOn(store, 'get').mockImplementation(storeFails);
      vi.spyOn(store, 'create').mockImplementation(storeFails);
      vi.spyOn(store, 'delete').mockImplementation(storeFails);
      const meOn = (token: string) => downApi('GET', '/api/v1/auth/me', { token });

      expect((await meOn(user.token)).status).toBe(200);
      const fresh = await downApi('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: 'password123' },
      });
      expect(fresh.status).toBe(200);
      expect((await meOn(fresh.body.token)).status).toBe(200);
      const out = await downApi('POST', '/api/v1/auth/logout', { token: fresh.body.token });
      expect(out.status).toBe(204);
      expect((await meOn(fresh.body.token)).status).toBe(401);
      expect((await meOn(user.token)).status).toBe(200);
    } finally {
      await down.stop();
    }
  });

  it.runIf(process.env.REDIS_URL)(
    'keeps signing in and serving requests with Redis unreachable, without waiting on it each time',
    async () => {
      const down = await startTestPlatform({ REDIS_URL: 'redis://127.0.0.1:1' });
      try {
        const downApi = apiClient(down.baseUrl);
        const user = await registerUser(downApi, 'merchant');
        const started = Date.now();
        for (let i = 0; i < 10; i++) {
          expect((await downApi('GET', '/api/v1/auth/me', { token: user.token })).status).toBe(200);
        }
        expect(Date.now() - started).toBeLessThan(2_000);
        expect((await downApi('POST', '/api/v1/auth/logout', { token: user.token })).status).toBe(
          204,
        );
        expect((await downApi('GET', '/api/v1/auth/me', { token: user.token })).status).toBe(401);
      } finally {
        await down.stop();
      }
    },
  );
});

describe('session expiry', () => {
  it('ends a session after SESSION_TTL, whether the store or PostgreSQL answers', async () => {
    const clock = new ManualClock();
    const timed = await startTestPlatform({ SESSION_TTL_HOURS: '1' }, { clock });
    try {
      const timedApi = apiClient(timed.baseUrl);
      const user = await registerUser(timedApi, 'customer');
      const check = async () =>
        (await timedApi('GET', '/api/v1/auth/me', { token: user.token })).status;
      clock.advance(59 * 60_000);
      expect(await check()).toBe(200);
      await loseCachedSessions(timed);
      expect(await check()).toBe(200);
      clock.advance(2 * 60_000);
      expect(await check()).toBe(401);
      await loseCachedSessions(timed);
      expect(await check()).toBe(401);
    } finally {
      await timed.stop();
    }
  });
});

describe('tokens', () => {
  it('are 256 random bits, different every time, and only their hash is stored', async () => {
    const user = await registerUser(api, 'customer');
    const second = (await login(user)).body.token as string;
    expect(second).not.toBe(user.token);
    for (const token of [user.token, second]) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
    const { rows } = await tp.infra.db.query('SELECT * FROM sessions WHERE user_id = $1', [
      user.id,
    ]);
    expect(JSON.stringify(rows)).not.toContain(user.token);
    expect(JSON.stringify(rows)).not.toContain(second);
  });

  it('look uniformly random: no repeats, half the bits set, ~8 bits of entropy per byte', () => {
    const tokens = Array.from({ length: 400 }, () => newSessionToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    const bytes = Buffer.concat(tokens.map((t) => Buffer.from(t, 'base64url')));
    let ones = 0;
    const counts = new Array<number>(256).fill(0);
    for (const b of bytes) {
      counts[b]!++;
      for (let bit = 0; bit < 8; bit++) ones += (b >> bit) & 1;
    }
    expect(ones / (bytes.length * 8)).toBeCloseTo(0.5, 1.5);
    const entropy = counts.reduce((h, c) => {
      const p = c / bytes.length;
      return p > 0 ? h - p * Math.log2(p) : h;
    }, 0);
    expect(entropy).toBeGreaterThan(7.9);
  });

  it('are never accepted from the URL, over HTTP or WebSocket', async () => {
    const user = await registerUser(api, 'customer');
    for (const param of ['token', 'access_token', 'sid']) {
      const res = await api('GET', `/api/v1/auth/me?${param}=${user.token}`);
      expect(res.status).toBe(401);
    }
    const socket = new WebSocket(`${tp.baseUrl.replace(/^http/, 'ws')}/ws?token=${user.token}`);
    const reply = await new Promise<any>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () =>
        socket.send(JSON.stringify({ type: 'subscribe', channel: 'fleet' })),
      );
      socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8'))));
    });
    socket.terminate();
    expect(reply).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
  });
});

describe('session cookie', () => {
  const cookieOf = (res: { headers: Headers }) => res.headers.get('set-cookie') ?? '';

  it('is HttpOnly, SameSite=Lax, site-wide, lives as long as the session, and not Secure by default', async () => {
    const user = await registerUser(api, 'customer');
    const cookie = cookieOf(await login(user));
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(new RegExp(`; Max-Age=${tp.config.sessionTtlMs / 1000}(;|$)`));
    expect(cookie).not.toMatch(/; Secure/i);
  });

  it('is Secure when COOKIE_SECURE is on, and cleared by logout', async () => {
    const secure = await startTestPlatform({ COOKIE_SECURE: 'true' });
    try {
      const secureApi = apiClient(secure.baseUrl);
      const user = await registerUser(secureApi, 'customer');
      const res = await secureApi('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: 'password123' },
      });
      expect(cookieOf(res)).toMatch(/; Secure/i);
      expect(cookieOf(res)).toMatch(/; HttpOnly/i);
      const out = await secureApi('POST', '/api/v1/auth/logout', {
        headers: { cookie: `sid=${res.body.token}` },
      });
      expect(out.status).toBe(204);
      expect(cookieOf(out)).toMatch(/^sid=;.*Expires=Thu, 01 Jan 1970/);
    } finally {
      await secure.stop();
    }
  });
});

describe('logs', () => {
  it('never contain a token or a password, whatever the client sends', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logged = await startTestPlatform({ LOG_LEVEL: 'trace' }, { logStream: sink });
    try {
      const logApi = apiClient(logged.baseUrl);
      const password = `Pw-${newSessionToken()}`;
      const email = `logs-${Date.now()}@test.local`;
      const reg = await logApi('POST', '/api/v1/auth/register', {
        body: { email, password, name: 'Log Test', role: 'customer' },
      });
      const token = reg.body.token as string;
      await logApi('POST', '/api/v1/auth/login', { body: { email, password } });
      await logApi('POST', '/api/v1/auth/login', { body: { email, password: `${password}x` } });
      await logApi('POST', '/api/v1/auth/login', { body: { email, password, extra: token } });
      await logApi('GET', '/api/v1/auth/me', { token });
      await logApi('GET', '/api/v1/auth/me', { headers: { cookie: `sid=${token}` } });
      await logApi('GET', `/api/v1/auth/me?token=${token}&password=${password}`);
      await logApi('GET', `/api/v1/no-such-route?sid=${token}`);
      const socket = new WebSocket(`${logged.baseUrl.replace(/^http/, 'ws')}/ws`);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
        socket.once('message', () => resolve());
      });
      socket.terminate();
      await logApi('POST', '/api/v1/auth/logout', { token });

      const output = lines.join('');
      expect(lines.length).toBeGreaterThan(10);
      expect(output).toContain('[redacted]');
      expect(output).not.toContain(token);
      expect(output).not.toContain(password);
    } finally {
      await logged.stop();
    }
  });
});
