import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, HEIDELBERG, placeOrder, registerUser, type TestStore } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * The dispatch sweep has connections of its own (a bulkhead): with every connection of the
 * API's pool taken, as under a load spike, a confirmed order still gets its offer. PostgreSQL
 * only: the embedded database is one in-process session shared by everything.
 */
const real = Boolean(process.env.DATABASE_URL);
if (!real) console.log('dispatch-pool: needs DATABASE_URL (a pool of its own only exists there)');

describe.runIf(real)('the dispatch pool', () => {
  let tp: TestPlatform;
  let api: Api;
  let store: TestStore;

  beforeAll(async () => {
    // A sweep interval far away: this test runs the sweep itself, at the moment it chooses.
    tp = await startTestPlatform({ DATABASE_POOL_SIZE: '2', DISPATCH_TICK_MS: '60000' });
    api = apiClient(tp.baseUrl);
    store = await createStore(tp, api);
  });
  afterAll(() => tp?.stop());

  it("names each pool's sessions for pg_stat_activity", async () => {
    const nameOf = async (db: typeof tp.infra.db) =>
      (
        await db.query<{ name: string }>(
          `SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
        )
      ).rows[0]?.name;
    expect(await nameOf(tp.infra.db)).toBe(`delivery-api ${tp.config.instanceId}`);
    expect(await nameOf(tp.infra.dispatchDb)).toBe(`delivery-dispatch ${tp.config.instanceId}`);
  });

  it('offers a confirmed order while every API connection is held', async () => {
    expect(tp.infra.dispatchDb).not.toBe(tp.infra.db);
    const driver = await registerUser(api, 'driver');
    expect(
      (await api('POST', '/api/v1/driver/go-online', { token: driver.token, body: HEIDELBERG }))
        .status,
    ).toBe(200);
    const customer = await registerUser(api, 'customer');
    const order = await placeOrder(api, customer, store);
    // Confirmed behind the service's back, so that no kick has swept it yet.
    await tp.infra.db.query(
      `UPDATE orders SET status = 'confirmed', confirmed_at = now(), dispatch_status = 'searching',
         dispatch_started_at = now(), dispatch_next_at = now() - interval '1 second' WHERE id = $1`,
      [order.id],
    );

    // Both connections of the API pool sit in open transactions until released.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holders = [0, 1].map(() => tp.infra.db.transaction(() => held));
    try {
      // A request now waits for a connection (and gives up after 5 s): the pool is exhausted.
      const started = Date.now();
      const handled = await tp.services.dispatch.tick();
      expect(handled).toBe(1);
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      release();
      await Promise.all(holders);
    }

    const check = new pg.Client({ connectionString: tp.config.databaseUrl! });
    await check.connect();
    try {
      const { rows } = await check.query(
        `SELECT driver_id, status FROM driver_offers WHERE order_id = $1`,
        [order.id],
      );
      expect(rows).toEqual([{ driver_id: driver.id, status: 'pending' }]);
    } finally {
      await check.end();
    }
  });
});
