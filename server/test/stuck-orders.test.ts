import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assignDriver } from '../src/dispatch/dispatch.repository.ts';
import { JobScheduler } from '../src/jobs/scheduler.ts';
import { opsJobs } from '../src/ops/ops.jobs.ts';
import { rebuildGeoIndex } from '../src/ops/rebuild-geo.ts';
import { sweepStuckOrders, type StuckOrdersDeps } from '../src/ops/stuck-orders.ts';
import { ManualClock, systemClock } from '../src/platform/clock.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createStore, HEIDELBERG, placeOrder, registerUser, type TestStore } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * The stuck-order sweep with a clock the test moves (the dispatch sweeper is off, so nothing
 * else acts on the orders), and the geo-index rebuild from PostgreSQL. Both modes.
 */
const MIN = 60_000;
let tp: TestPlatform;
let api: Api;
let clock: ManualClock;
let store: TestStore;
let customer: Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' }, { clock });
  api = apiClient(tp.baseUrl);
  store = await createStore(tp, api);
  customer = await registerUser(api, 'customer');
});
afterAll(() => tp?.stop());
// Order times come from the database's now(): each test starts with the clock back at real time.
afterEach(() => clock.advance(Date.now() - clock.now()));

const sweep = (extra: Partial<StuckOrdersDeps> = {}) =>
  sweepStuckOrders({
    db: tp.infra.db,
    clock,
    settings: tp.config.stuck,
    orders: tp.services.orders,
    publisher: tp.services.publisher,
    dispatch: tp.services.dispatch,
    ...extra,
  });

async function confirmed(): Promise<string> {
  const order = await placeOrder(api, customer, store);
  const res = await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, {
    token: store.owner.token,
  });
  expect(res.status).toBe(200);
  return order.id;
}

const row = async (id: string) =>
  (
    await tp.infra.db.query<{
      status: string;
      cancelled_by: string | null;
      cancel_reason: string | null;
      dispatch_status: string;
      needs_attention_at: Date | null;
      attention_reason: string | null;
    }>(
      `SELECT status, cancelled_by, cancel_reason, dispatch_status, needs_attention_at, attention_reason
       FROM orders WHERE id = $1`,
      [id],
    )
  ).rows[0]!;

describe('the stuck-order sweep', () => {
  it('has the thresholds from config', () => {
    expect(tp.config.stuck).toEqual({
      pendingCancelMs: 30 * MIN,
      redispatchAfterMs: 2 * MIN,
      flagAfterMs: 30 * MIN,
      noProgressMs: 120 * MIN,
    });
  });

  it('cancels an order the store never confirmed, with a notice to the customer, once', async () => {
    const order = await placeOrder(api, customer, store);
    clock.advance(29 * MIN);
    expect((await sweep()).cancelled).not.toContain(order.id);

    clock.advance(2 * MIN);
    const dry = await sweep({ dryRun: true });
    expect(dry.cancelled).toContain(order.id);
    expect((await row(order.id)).status).toBe('pending');

    const report = await sweep();
    expect(report.cancelled).toContain(order.id);
    expect(await row(order.id)).toMatchObject({
      status: 'cancelled',
      cancelled_by: 'system',
      cancel_reason: 'not confirmed by the store within 30 min',
    });
    const audit = await tp.infra.db.query<{ actor_role: string; reason: string }>(
      `SELECT actor_role, reason FROM order_events WHERE order_id = $1 AND to_status = 'cancelled'`,
      [order.id],
    );
    expect(audit.rows).toEqual([
      { actor_role: 'system', reason: 'not confirmed by the store within 30 min' },
    ]);
    const inbox = await api('GET', '/api/v1/notifications', { token: customer.token });
    const notice = inbox.body.items.find(
      (n: any) => n.orderId === order.id && n.type === 'order.cancelled',
    );
    expect(notice.body).toMatch(/cancelled your order.*not confirmed by the store within 30 min/);
    const owner = await api('GET', '/api/v1/notifications', { token: store.owner.token });
    expect(
      owner.body.items.some((n: any) => n.orderId === order.id && n.type === 'order.cancelled'),
    ).toBe(true);

    expect((await sweep()).cancelled).not.toContain(order.id); // already done
  });

  it('restarts a dispatch that is not running, and the restarted dispatch makes an offer', async () => {
    const id = await confirmed();
    // A confirmed order whose dispatch never started (e.g. confirmed before dispatch existed).
    await tp.infra.db.query(
      `UPDATE orders SET dispatch_status = 'idle', dispatch_next_at = NULL WHERE id = $1`,
      [id],
    );
    clock.advance(1 * MIN);
    expect((await sweep()).redispatched.map((r) => r.orderId)).not.toContain(id);

    clock.advance(2 * MIN);
    const report = await sweep();
    expect(report.redispatched).toContainEqual({ orderId: id, dispatchWas: 'idle' });
    expect((await row(id)).dispatch_status).toBe('searching');
    const audit = await tp.infra.db.query<{ actor_role: string; data: unknown }>(
      `SELECT actor_role, data FROM order_events WHERE order_id = $1 AND reason = 'stuck: dispatch restarted'`,
      [id],
    );
    expect(audit.rows).toEqual([{ actor_role: 'system', data: { dispatchWas: 'idle' } }]);
    expect((await sweep()).redispatched.map((r) => r.orderId)).not.toContain(id);

    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG });
    await tp.services.dispatch.tick();
    const offer = await api('GET', '/api/v1/driver/offers', { token: driver.token });
    expect(offer.body.offer?.orderId).toBe(id);
    await api('POST', '/api/v1/driver/go-offline', { token: driver.token });
  });

  it('reports a running dispatch that no instance sweeps as overdue, without touching it', async () => {
    const id = await confirmed(); // searching, due now; the sweeper is off in this test
    clock.advance(3 * MIN);
    const report = await sweep();
    expect(report.overdue).toContain(id);
    expect(report.redispatched.map((r) => r.orderId)).not.toContain(id);
    expect((await row(id)).dispatch_status).toBe('searching');
  });

  it('flags an order still without a driver after the flag window, once', async () => {
    const id = await confirmed();
    clock.advance(29 * MIN);
    expect((await sweep()).flagged.map((f) => f.orderId)).not.toContain(id);
    clock.advance(2 * MIN);
    const report = await sweep();
    expect(report.flagged).toContainEqual({
      orderId: id,
      reason: 'no driver 30 min after confirmation',
    });
    const r = await row(id);
    expect(r.needs_attention_at).not.toBeNull();
    expect(r.attention_reason).toBe('no driver 30 min after confirmation');
    const fleet = await tp.infra.kv.events.readAfter('fleet', null, 1000);
    expect(fleet.some((e) => e.payload.includes(id))).toBe(true);
    expect((await sweep()).flagged.map((f) => f.orderId)).not.toContain(id);
  });

  it('flags an order with a driver whose status has not moved for too long', async () => {
    const driver = await registerUser(api, 'driver');
    const id = await confirmed();
    await tp.infra.db.transaction((tx) => assignDriver(tx, id, driver.id, new Date(clock.now())));
    clock.advance(119 * MIN);
    expect((await sweep()).flagged.map((f) => f.orderId)).not.toContain(id);
    clock.advance(2 * MIN);
    const report = await sweep();
    expect(report.flagged).toContainEqual({
      orderId: id,
      reason: 'no status change for 2 h (confirmed)',
    });
    expect(report.redispatched.map((r) => r.orderId)).not.toContain(id); // it has a driver
  });

  it('runs as the scheduler job stuck-orders, under its lease', async () => {
    const scheduler = new JobScheduler({
      db: tp.infra.db,
      leases: tp.infra.kv.leases,
      holder: 'stuck-orders-test',
      log: createLogger({ logLevel: 'silent', instanceId: 'stuck-orders-test' }),
      config: tp.config,
      clock,
      jobs: opsJobs({
        geo: tp.infra.kv.geo,
        orders: tp.services.orders,
        publisher: tp.services.publisher,
      }),
    });
    const order = await placeOrder(api, customer, store);
    clock.advance(31 * MIN);
    const run = await scheduler.run('stuck-orders', { force: true });
    expect(run.status).toBe('succeeded');
    expect((run.details as { cancelled: string[] }).cancelled).toContain(order.id);
    expect((await row(order.id)).status).toBe('cancelled');
    const geo = await scheduler.run('rebuild-geo', { force: true, dryRun: true });
    expect(geo.status).toBe('succeeded');
    expect(geo.summary).toMatch(/would be restored/);
  });

  it('changes nothing on a dry run', async () => {
    const pending = await placeOrder(api, customer, store);
    clock.advance(3 * 60 * MIN);
    const report = await sweep({ dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.cancelled).toContain(pending.id);
    expect(report.summary).toMatch(/would be cancelled/);
    expect((await row(pending.id)).status).toBe('pending');
  });
});

describe('rebuilding the geo index from PostgreSQL', () => {
  let geoTp: TestPlatform;
  let geoApi: Api;
  beforeAll(async () => {
    geoTp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
    geoApi = apiClient(geoTp.baseUrl);
  });
  afterAll(() => geoTp?.stop());

  const rebuild = (dryRun = false) =>
    rebuildGeoIndex({
      db: geoTp.infra.db,
      geo: geoTp.infra.kv.geo,
      clock: systemClock,
      maxAgeMs: geoTp.config.geoRebuildMaxAgeMs,
      dryRun,
    });

  it('puts back online drivers with a recent position, never an older one over a newer', async () => {
    const geo = geoTp.infra.kv.geo;
    const online = await registerUser(geoApi, 'driver');
    const refreshed = await registerUser(geoApi, 'driver');
    const stale = await registerUser(geoApi, 'driver');
    const offline = await registerUser(geoApi, 'driver');
    for (const d of [online, refreshed, stale, offline]) {
      const res = await geoApi('POST', '/api/v1/driver/go-online', {
        token: d.token,
        body: HEIDELBERG,
      });
      expect(res.status).toBe(200);
    }
    await geoApi('POST', '/api/v1/driver/go-offline', { token: offline.token });
    await geoTp.infra.db.query(
      `UPDATE drivers SET location_updated_at = now() - interval '1 hour' WHERE id = $1`,
      [stale.id],
    );
    // The index loses everything; one driver reports a new position before the rebuild.
    for (const d of [online, refreshed, stale, offline]) await geo.remove(d.id);
    const moved = { lat: HEIDELBERG.lat + 0.001, lng: HEIDELBERG.lng, at: Date.now() + 1_000 };
    await geo.set(refreshed.id, moved, 60_000);

    const dry = await rebuild(true);
    expect(dry).toMatchObject({ restored: 1, newerInIndex: 1, stale: 1 });
    expect(await geo.get(online.id)).toBeNull();

    const report = await rebuild();
    expect(report).toMatchObject({ online: 3, restored: 1, newerInIndex: 1, stale: 1 });
    expect(await geo.get(online.id)).toMatchObject({ lat: HEIDELBERG.lat, lng: HEIDELBERG.lng });
    expect(await geo.get(refreshed.id)).toEqual(moved);
    expect(await geo.get(stale.id)).toBeNull();
    expect(await geo.get(offline.id)).toBeNull();
    const near = await geo.search(HEIDELBERG, 1, 10);
    expect(near.map((h) => h.id)).toContain(online.id);

    const before = await geo.get(online.id);
    const again = await rebuild(); // the same positions again: nothing changes
    expect(again).toMatchObject({ restored: 1, newerInIndex: 1, stale: 1 });
    expect(await geo.get(online.id)).toEqual(before);
    expect(await geo.get(refreshed.id)).toEqual(moved);
  });
});
