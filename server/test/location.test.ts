import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/platform/clock.ts';
import { HEIDELBERG, registerUser, type TestUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let api: Api;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' }, { clock });
  api = apiClient(tp.baseUrl);
});
afterAll(() => tp?.stop());

async function online(): Promise<TestUser> {
  const driver = await registerUser(api, 'driver');
  await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
  return driver;
}

const post = (d: TestUser, body: Record<string, unknown>) =>
  api('POST', '/api/v1/driver/location', { token: d.token, body });
const iso = (ms: number) => new Date(ms).toISOString();

describe('driver location updates', () => {
  it('stores a valid update in the geo index and answers 202', async () => {
    const d = await online();
    clock.advance(3_000);
    const res = await post(d, { lat: 49.41, lng: 8.694, heading: 90, speedMps: 5 });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: true });
    expect(await tp.infra.kv.geo.get(d.id)).toEqual({ lat: 49.41, lng: 8.694, at: clock.now() });
  });

  it.each([
    ['latitude out of range', { lat: 91, lng: 8.69 }],
    ['a non-number longitude', { lat: 49.41, lng: 'east' }],
    ['an unknown field', { lat: 49.41, lng: 8.69, altitude: 3 }],
    ['a malformed time', { lat: 49.41, lng: 8.69, recordedAt: 'yesterday' }],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const d = await online();
    const before = await tp.infra.kv.geo.get(d.id);
    const res = await post(d, body);
    expect(res.status).toBe(400);
    expect(await tp.infra.kv.geo.get(d.id)).toEqual(before);
  });

  it('refuses a time in the future and a teleport with 422 and a reason', async () => {
    const d = await online();
    const before = await tp.infra.kv.geo.get(d.id);
    const future = await post(d, { lat: 49.41, lng: 8.69, recordedAt: iso(clock.now() + 60_000) });
    expect(future.status).toBe(422);
    expect(future.body.error.code).toBe('LOCATION_REJECTED');
    expect(future.body.error.message).toMatch(/future/);
    clock.advance(3_000);
    const jump = await post(d, { lat: 49.5, lng: 8.69 }); // 10 km in 3 s
    expect(jump.status).toBe(422);
    expect(jump.body.error.message).toMatch(/implausible speed/);
    expect(await tp.infra.kv.geo.get(d.id)).toEqual(before);
  });

  it('never lets an older update overwrite a newer one', async () => {
    const d = await online();
    clock.advance(10_000);
    const newer = clock.now();
    await post(d, { lat: 49.4101, lng: 8.6941, recordedAt: iso(newer) });
    const older = await post(d, { lat: 49.4095, lng: 8.6939, recordedAt: iso(newer - 5_000) });
    expect(older.status).toBe(202);
    expect(older.body.reason).toMatch(/newer position/);
    expect(await tp.infra.kv.geo.get(d.id)).toEqual({ lat: 49.4101, lng: 8.6941, at: newer });
  });

  it('samples history at most every 10 s or 50 m and writes it in batches', async () => {
    const d = await online();
    const start = clock.now();
    for (let i = 1; i <= 9; i++) {
      clock.advance(1_000);
      await post(d, { lat: HEIDELBERG.lat + i * 0.00001, lng: HEIDELBERG.lng }); // ~1 m a second
    }
    clock.advance(2_000); // 11 s since the first sample
    await post(d, { lat: HEIDELBERG.lat + 0.0001, lng: HEIDELBERG.lng });
    clock.advance(1_000);
    await post(d, { lat: HEIDELBERG.lat + 0.0008, lng: HEIDELBERG.lng }); // ~78 m further: due
    await tp.services.history.flush();
    const { rows } = await tp.infra.db.query<{ recorded_at: Date }>(
      'SELECT recorded_at FROM driver_location_history WHERE driver_id = $1 ORDER BY recorded_at',
      [d.id],
    );
    expect(rows.map((r) => (r.recorded_at.getTime() - start) / 1000)).toEqual([1, 11, 12]);
    const driver = await tp.infra.db.query<{ current_lat: number }>(
      'SELECT current_lat FROM drivers WHERE id = $1',
      [d.id],
    );
    expect(driver.rows[0]!.current_lat).toBeCloseTo(HEIDELBERG.lat + 0.0008, 6);
  });

  it('lets only drivers post locations', async () => {
    const customer = await registerUser(api, 'customer');
    const res = await post(customer, { lat: 49.41, lng: 8.69 });
    expect(res.status).toBe(403);
  });
});

describe('going online and offline', () => {
  it('goes online at a position and offline out of the geo index', async () => {
    const d = await online();
    const status = await api('GET', '/api/v1/driver/status', { token: d.token });
    expect(status.body.driver).toMatchObject({
      status: 'online',
      lat: HEIDELBERG.lat,
      lng: HEIDELBERG.lng,
    });
    const off = await api('POST', '/api/v1/driver/go-offline', { token: d.token });
    expect(off.body.driver.status).toBe('offline');
    expect(await tp.infra.kv.geo.get(d.id)).toBeNull();
  });
});
