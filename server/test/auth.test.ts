import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let api: Api;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
});
afterAll(() => tp?.stop());

const register = (body: Record<string, unknown>) => api('POST', '/api/v1/auth/register', { body });
const valid = (email: string) => ({
  email,
  password: 'password123',
  name: 'Ada',
  role: 'customer',
});

describe('register and login', () => {
  it('registers a customer, returns a token and sets an HttpOnly SameSite=Lax cookie', async () => {
    const res = await register(valid('ada@example.com'));
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      email: 'ada@example.com',
      role: 'customer',
      name: 'Ada',
    });
    expect(res.body.user).not.toHaveProperty('passwordHash');
    expect(Buffer.from(res.body.token, 'base64url').length).toBeGreaterThanOrEqual(16);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sid=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it('stores an argon2id hash, never the password', async () => {
    await register(valid('hash@example.com'));
    const { rows } = await tp.infra.db.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'hash@example.com'`,
    );
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('refuses a second account with the same email, in any letter case, with 409', async () => {
    await register(valid('dup@example.com'));
    const res = await register(valid('DUP@example.com'));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('EMAIL_TAKEN');
  });

  it('requires a vehicle type for drivers and creates their driver profile', async () => {
    const missing = await register({ ...valid('d1@example.com'), role: 'driver' });
    expect(missing.status).toBe(400);
    const ok = await register({
      ...valid('d2@example.com'),
      role: 'driver',
      vehicleType: 'scooter',
    });
    expect(ok.status).toBe(201);
    const { rows } = await tp.infra.db.query('SELECT vehicle_type FROM drivers WHERE id = $1', [
      ok.body.user.id,
    ]);
    expect(rows).toEqual([{ vehicle_type: 'scooter' }]);
  });

  it.each([
    ['an admin role', { role: 'admin' }],
    ['a bad email', { email: 'not-an-email' }],
    ['a short password', { password: 'short' }],
    ['an unknown field', { isAdmin: true }],
  ])('refuses %s with 400 and creates nothing', async (_name, patch) => {
    const before = (await tp.infra.db.query('SELECT 1 FROM users')).rowCount;
    const res = await register({ ...valid(`x${Math.random()}@example.com`), ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect((await tp.infra.db.query('SELECT 1 FROM users')).rowCount).toBe(before);
  });

  it('logs in with the right password and refuses a wrong one or an unknown email alike', async () => {
    await register(valid('login@example.com'));
    const ok = await api('POST', '/api/v1/auth/login', {
      body: { email: 'login@example.com', password: 'password123' },
    });
    expect(ok.status).toBe(200);
    const wrong = await api('POST', '/api/v1/auth/login', {
      body: { email: 'login@example.com', password: 'nope-nope' },
    });
    const unknown = await api('POST', '/api/v1/auth/login', {
      body: { email: 'ghost@example.com', password: 'nope-nope' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });
});

describe('sessions', () => {
  it('answers me for a Bearer token and for the cookie', async () => {
    const user = await registerUser(api, 'customer');
    const bearer = await api('GET', '/api/v1/auth/me', { token: user.token });
    expect(bearer.body.user.id).toBe(user.id);
    const cookie = await api('GET', '/api/v1/auth/me', {
      headers: { cookie: `sid=${user.token}` },
    });
    expect(cookie.body.user.id).toBe(user.id);
  });

  it('revokes the session at once on logout', async () => {
    const user = await registerUser(api, 'customer');
    expect((await api('POST', '/api/v1/auth/logout', { token: user.token })).status).toBe(204);
    const after = await api('GET', '/api/v1/auth/me', { token: user.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a made-up token with 401', async () => {
    const res = await api('GET', '/api/v1/auth/me', { token: 'x'.repeat(43) });
    expect(res.status).toBe(401);
  });

  it('keeps only a hash of the token in the session store', async () => {
    const user = await registerUser(api, 'customer');
    expect(await tp.infra.kv.sessions.get(user.token)).toBeNull();
    expect(await tp.services.auth.resolve(user.token)).toMatchObject({
      userId: user.id,
      role: 'customer',
    });
  });
});
