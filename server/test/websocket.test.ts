import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compareEventIds } from '../src/adapters/ports.ts';
import {
  locationIngestDuration,
  locationUpdates,
  websocketConnections,
  websocketMessages,
} from '../src/metrics/metrics.ts';
import { registerWebSocketGateway, type GatewayDeps } from '../src/realtime/gateway.ts';
import {
  createAdmin,
  createStore,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';
import { connectWs, isEvent, type ConnectOptions, type WsClient } from './ws-client.ts';

const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

let tp: TestPlatform;
let api: Api;
let customer: TestUser;
let otherCustomer: TestUser;
let driver: TestUser;
let otherDriver: TestUser;
let admin: TestUser;
let store: TestStore;
let otherStore: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  [customer, otherCustomer, driver, otherDriver, store, otherStore] = await Promise.all([
    registerUser(api, 'customer'),
    registerUser(api, 'customer'),
    registerUser(api, 'driver'),
    registerUser(api, 'driver'),
    createStore(tp, api),
    createStore(tp, api),
  ]);
  admin = await createAdmin(tp, api);
});
afterAll(() => tp?.stop());

const clients: WsClient[] = [];
afterEach(async () => {
  const open = clients.splice(0);
  await Promise.all(open.map((c) => c.close()));
  for (const c of open)
    expect(c.violations, 'messages outside the ServerMessage schema').toEqual([]);
});

async function connect(opts: ConnectOptions = {}, baseUrl = tp.baseUrl): Promise<WsClient> {
  const client = await connectWs(baseUrl, opts);
  clients.push(client);
  return client;
}

async function subscribe(client: WsClient, channel: string, lastEventId?: string) {
  client.send({ type: 'subscribe', channel, ...(lastEventId ? { lastEventId } : {}) });
  return client.next((m) => m.channel === channel && ['subscribed', 'error'].includes(m.type));
}

const publish = (channel: string, n: number) =>
  tp.services.publisher.publish(channel, 'test.tick', { n });

/** A gateway on a bare Fastify app sharing the test platform's services, with its own limits. */
async function startGateway(
  deps: Partial<GatewayDeps> = {},
  setup: (app: FastifyInstance) => void = () => undefined,
) {
  const app: FastifyInstance = Fastify();
  await app.register(cookie);
  setup(app);
  const gateway = await registerWebSocketGateway(app, {
    auth: tp.services.auth,
    db: tp.infra.db,
    bus: tp.infra.kv.bus,
    events: tp.infra.kv.events,
    clock: tp.infra.clock,
    ...deps,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, gateway, baseUrl: `http://127.0.0.1:${port}` };
}

describe('signing in', () => {
  it('accepts the session cookie of the upgrade request and answers ready', async () => {
    const ws = await connect({ cookie: customer.token, awaitReady: false });
    expect(await ws.next()).toEqual({ type: 'ready', userId: customer.id, role: 'customer' });
  });

  it('accepts a first auth message and answers ready', async () => {
    const ws = await connect();
    ws.send({ type: 'auth', token: driver.token });
    expect(await ws.next()).toEqual({ type: 'ready', userId: driver.id, role: 'driver' });
  });

  it.each([
    ['an unknown cookie', { cookie: 'not-a-session' }],
    ['an unknown token in the auth message', { token: 'not-a-session' }],
  ])('answers UNAUTHENTICATED and closes with 4401 for %s', async (_name, opts) => {
    const ws = await connect({ ...opts, awaitReady: false });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    expect((await ws.closed).code).toBe(4401);
  });

  it("lets an auth message replace the cookie's session and drops the old user's channels", async () => {
    const order = await placeOrder(api, customer, store);
    const ws = await connect({ cookie: customer.token, awaitReady: false });
    expect(await ws.next()).toMatchObject({ type: 'ready', userId: customer.id });
    expect(await subscribe(ws, `order:${order.id}`)).toMatchObject({ type: 'subscribed' });
    ws.send({ type: 'auth', token: driver.token });
    expect(await ws.next((m) => m.type === 'ready')).toEqual({
      type: 'ready',
      userId: driver.id,
      role: 'driver',
    });
    await publish(`order:${order.id}`, 1);
    await ws.expectNothing(isEvent(`order:${order.id}`));
  });

  it('refuses a subscribe before signing in, sends no data, and still accepts auth', async () => {
    const order = await placeOrder(api, customer, store);
    const ws = await connect();
    ws.send({ type: 'subscribe', channel: `order:${order.id}` });
    expect(await ws.next()).toMatchObject({
      type: 'error',
      code: 'UNAUTHENTICATED',
    });
    await publish(`order:${order.id}`, 1);
    await ws.expectNothing(isEvent(`order:${order.id}`));
    ws.send({ type: 'auth', token: customer.token });
    expect(await ws.next()).toMatchObject({ type: 'ready', userId: customer.id });
  });

  it('closes a socket that never signs in with 4401 once the auth timeout passes', async () => {
    const gw = await startGateway({ limits: { authTimeoutMs: 150 } });
    try {
      const ws = await connectWs(gw.baseUrl);
      const started = Date.now();
      expect((await ws.closed).code).toBe(4401);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      expect(ws.received).toEqual([expect.objectContaining({ code: 'UNAUTHENTICATED' })]);
    } finally {
      await gw.app.close();
    }
  });

  it.each([
    ['one slice', { heartbeatMs: 100 }],
    ['sockets spread over slices', { heartbeatMs: 600, heartbeatSliceMs: 100 }],
  ])(
    'ends a socket whose session was logged out within a heartbeat, with 4401 (%s)',
    async (_name, limits) => {
      const gw = await startGateway({ limits });
      try {
        const login = await api('POST', '/api/v1/auth/login', {
          body: { email: customer.email, password: 'password123' },
        });
        const ws = await connectWs(gw.baseUrl, { cookie: login.body.token });
        await api('POST', '/api/v1/auth/logout', { token: login.body.token });
        const loggedOut = Date.now();
        expect(await ws.next((m) => m.type === 'error')).toMatchObject({
          code: 'UNAUTHENTICATED',
        });
        expect((await ws.closed).code).toBe(4401);
        expect(Date.now() - loggedOut).toBeLessThan(limits.heartbeatMs + 400);
      } finally {
        await gw.app.close();
      }
    },
  );

  it('spreads the session re-checks of many sockets over the heartbeat interval', async () => {
    const checks: number[] = [];
    let counting = false;
    const auth = {
      ...tp.services.auth,
      resolve: (token: string) => {
        if (counting) checks.push(Date.now());
        return tp.services.auth.resolve(token);
      },
    };
    const gw = await startGateway({ auth, limits: { heartbeatMs: 1_000, heartbeatSliceMs: 100 } });
    try {
      await Promise.all(
        Array.from({ length: 10 }, () => connectWs(gw.baseUrl, { token: customer.token })),
      );
      counting = true;
      await vi.waitFor(() => expect(checks.length).toBeGreaterThanOrEqual(10), {
        timeout: 3_000,
      });
      const first10 = checks.slice(0, 10);
      // Ten sockets in ten slices of 100 ms: the checks span most of the second, not an instant.
      expect(Math.max(...first10) - Math.min(...first10)).toBeGreaterThanOrEqual(500);
    } finally {
      await gw.app.close();
    }
  });

  it("never holds a driver's next location back behind a slow session re-check", async () => {
    let slow = false;
    let rechecks = 0;
    let release!: () => void;
    const struggling = new Promise<void>((resolve) => (release = resolve));
    const auth = {
      ...tp.services.auth,
      resolve: async (token: string) => {
        if (slow) {
          rechecks++;
          await struggling; // the session store hangs until the test ends
        }
        return tp.services.auth.resolve(token);
      },
    };
    const gw = await startGateway({
      auth,
      limits: { heartbeatMs: 100 },
      onLocation: async () => ({ accepted: true }),
    });
    try {
      const phone = await connectWs(gw.baseUrl, { token: driver.token });
      slow = true;
      await vi.waitFor(() => expect(rechecks).toBeGreaterThanOrEqual(1));
      const sent = Date.now();
      phone.send({ type: 'location', lat: 49.41, lng: 8.69, seq: 1 });
      expect(await phone.next((m) => m.seq === 1, 1_000)).toEqual({ type: 'ack', seq: 1 });
      expect(Date.now() - sent).toBeLessThan(1_000);
      // A slow check is not stacked up by later heartbeats either.
      await sleep(350);
      expect(rechecks).toBe(1);
      await phone.close();
    } finally {
      release();
      await gw.app.close();
    }
  });
});

describe('order channel events', () => {
  it('delivers the status changes of the merchant routes to the customer, in order', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const ws = await connect({ cookie: customer.token });
    expect(await subscribe(ws, channel)).toEqual({ type: 'subscribed', channel, replayed: 0 });
    for (const step of ['confirm', 'preparing', 'ready']) {
      const res = await api('POST', `/api/v1/merchant/orders/${order.id}/${step}`, {
        token: store.owner.token,
      });
      expect(res.status).toBe(200);
    }
    const events = await ws.take(3, isEvent(channel, 'order.status'));
    expect(events.map((e) => e.data.status)).toEqual([
      'confirmed',
      'preparing',
      'ready_for_pickup',
    ]);
    expect(events[0]).toMatchObject({ channel, at: expect.any(String) });
    const ids = events.map((e) => e.id);
    expect([...ids].sort(compareEventIds)).toEqual(ids);
  });

  it('delivers many published events exactly once each, in publish order', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const ws = await connect({ token: customer.token });
    await subscribe(ws, channel);
    const published = [];
    for (let n = 0; n < 30; n++) published.push((await publish(channel, n)).id);
    const got = await ws.take(30, isEvent(channel));
    expect(got.map((e) => e.data.n)).toEqual([...Array(30).keys()]);
    expect(got.map((e) => e.id)).toEqual(published);
    await ws.expectNothing(isEvent(channel), 150);
  });

  it('lets the store owner, the assigned driver and an admin listen to an order', async () => {
    const order = await placeOrder(api, customer, store);
    await tp.infra.db.query('UPDATE orders SET driver_id = $1 WHERE id = $2', [
      driver.id,
      order.id,
    ]);
    const channel = `order:${order.id}`;
    const listeners = await Promise.all(
      [store.owner, driver, admin].map((u) => connect({ token: u.token })),
    );
    for (const ws of listeners) {
      expect(await subscribe(ws, channel)).toMatchObject({ type: 'subscribed' });
    }
    const sent = await publish(channel, 7);
    for (const ws of listeners) expect((await ws.next(isEvent(channel))).id).toBe(sent.id);
  });

  it('lets owners listen to their merchant and driver channels, and admins to the fleet', async () => {
    const cases: Array<[TestUser, string]> = [
      [store.owner, `merchant:${store.id}`],
      [driver, `driver:${driver.id}`],
      [admin, 'fleet'],
      [admin, `merchant:${otherStore.id}`],
    ];
    for (const [user, channel] of cases) {
      const ws = await connect({ token: user.token });
      expect(await subscribe(ws, channel)).toMatchObject({ type: 'subscribed', channel });
      const sent = await publish(channel, 1);
      expect((await ws.next(isEvent(channel))).id).toBe(sent.id);
    }
  });

  it("asks the gateway's store look-up, not the database, which store a merchant runs", async () => {
    const asked: string[] = [];
    const gw = await startGateway({
      storeOf: (ownerId) => {
        asked.push(ownerId);
        return Promise.resolve(ownerId === store.owner.id ? store.id : null);
      },
    });
    try {
      const order = await placeOrder(api, customer, store);
      const ws = await connect({ token: store.owner.token }, gw.baseUrl);
      for (const channel of [`merchant:${store.id}`, `order:${order.id}`])
        expect(await subscribe(ws, channel)).toMatchObject({ type: 'subscribed', channel });
      expect(await subscribe(ws, `merchant:${otherStore.id}`)).toMatchObject({
        type: 'error',
        code: 'FORBIDDEN',
      });
      expect(asked).toEqual([store.owner.id, store.owner.id, store.owner.id]);
    } finally {
      await gw.app.close();
    }
  });

  it('sends each event once to a socket that subscribed twice to the same channel', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const ws = await connect({ token: customer.token });
    await subscribe(ws, channel);
    expect(await subscribe(ws, channel)).toEqual({ type: 'subscribed', channel, replayed: 0 });
    const sent = await publish(channel, 1);
    expect((await ws.next(isEvent(channel))).id).toBe(sent.id);
    await ws.expectNothing(isEvent(channel));
  });

  it('stops sending a channel after unsubscribe', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const ws = await connect({ token: customer.token });
    await subscribe(ws, channel);
    ws.send({ type: 'unsubscribe', channel });
    expect(await ws.next()).toEqual({ type: 'unsubscribed', channel });
    await publish(channel, 1);
    await ws.expectNothing(isEvent(channel));
  });

  it('holds one bus subscription per channel for all local sockets, dropped with the last', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const bus = tp.infra.kv.bus;
    const unsubscribed = vi.fn();
    const original = bus.subscribe.bind(bus);
    const spy = vi.spyOn(bus, 'subscribe').mockImplementation(async (name, handler) => {
      const unsubscribe = await original(name, handler);
      return async () => {
        if (name === channel) unsubscribed();
        await unsubscribe();
      };
    });
    try {
      const a = await connect({ token: customer.token });
      const b = await connect({ token: admin.token });
      await subscribe(a, channel);
      await subscribe(b, channel);
      expect(spy.mock.calls.filter(([name]) => name === channel)).toHaveLength(1);
      const sent = await publish(channel, 1);
      expect((await a.next(isEvent(channel))).id).toBe(sent.id);
      expect((await b.next(isEvent(channel))).id).toBe(sent.id);
      await a.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(unsubscribed).not.toHaveBeenCalled();
      await b.close();
      await vi.waitFor(() => expect(unsubscribed).toHaveBeenCalledTimes(1), { timeout: 2000 });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('forbidden channels', () => {
  const cases: Array<[string, () => TestUser, () => Promise<string>]> = [
    ["another customer's order", () => otherCustomer, orderChannel],
    ['an order of another store, as a merchant', () => otherStore.owner, orderChannel],
    ['an order not assigned to the driver', () => driver, orderChannel],
    ["someone else's merchant channel", () => store.owner, async () => `merchant:${otherStore.id}`],
    ['a merchant channel, as a customer', () => customer, async () => `merchant:${store.id}`],
    ["another driver's channel", () => driver, async () => `driver:${otherDriver.id}`],
    ['a driver channel, as its customer', () => customer, async () => `driver:${driver.id}`],
    ['the fleet, as a customer', () => customer, async () => 'fleet'],
    ['the fleet, as a driver', () => driver, async () => 'fleet'],
    ['the fleet, as a merchant', () => store.owner, async () => 'fleet'],
    ['an order that does not exist', () => customer, async () => `order:${crypto.randomUUID()}`],
  ];

  async function orderChannel() {
    return `order:${(await placeOrder(api, customer, store)).id}`;
  }

  it.each(cases)('refuses %s with FORBIDDEN and sends none of its events', async (_n, who, ch) => {
    const channel = await ch();
    const ws = await connect({ token: who().token });
    expect(await subscribe(ws, channel)).toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      channel,
      message: expect.any(String),
    });
    await publish(channel, 1);
    await ws.expectNothing(isEvent(channel));
  });
});

describe('replay with lastEventId', () => {
  it('sends exactly the missed events once, in order, then goes live', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const first = await connect({ token: customer.token });
    await subscribe(first, channel);
    await publish(channel, 1);
    await publish(channel, 2);
    const seen = await first.take(2, isEvent(channel));
    await first.close();

    const missed = [];
    for (const n of [3, 4, 5]) missed.push((await publish(channel, n)).id);

    const again = await connect({ token: customer.token });
    expect(await subscribe(again, channel, seen[1].id)).toEqual({
      type: 'subscribed',
      channel,
      replayed: 3,
    });
    const replayed = await again.take(3, isEvent(channel));
    expect(replayed.map((e) => e.id)).toEqual(missed);
    expect(replayed.map((e) => e.data.n)).toEqual([3, 4, 5]);
    expect(replayed[0]).toMatchObject({ type: 'test.tick', channel, at: expect.any(String) });
    const live = await publish(channel, 6);
    expect((await again.next(isEvent(channel))).id).toBe(live.id);
    await again.expectNothing(isEvent(channel), 150);
  });

  it('has no gap and no duplicate at the seam while events are published concurrently', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const published: string[] = [];
    for (let n = 0; n < 20; n++) published.push((await publish(channel, n)).id);
    const lastSeen = published[9]!;

    const ws = await connect({ token: customer.token });
    const publishing = (async () => {
      for (let n = 20; n < 220; n++) {
        published.push((await publish(channel, n)).id);
        if (n % 5 === 0) await yieldToIo();
      }
    })();
    await yieldToIo();
    const answer = await subscribe(ws, channel, lastSeen);
    await publishing;

    const expected = published.slice(10);
    const got = await ws.take(expected.length, isEvent(channel), 8_000);
    expect(answer.type).toBe('subscribed');
    // The subscribe really overlapped the publishing: some events came from the log, some live.
    expect(answer.replayed).toBeGreaterThanOrEqual(10);
    expect(answer.replayed).toBeLessThan(expected.length);
    const ids = got.map((e) => e.id);
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++)
      expect(compareEventIds(ids[i - 1], ids[i])).toBeLessThan(0);
    await ws.expectNothing(isEvent(channel), 150);
  });

  it('holds live events during a slow replay, then sends each once, in order', async () => {
    const log = tp.infra.kv.events;
    const gw = await startGateway({
      events: {
        append: (...args) => log.append(...args),
        // Events land both before the read (duplicates to drop) and after it (new, to keep).
        readAfter: async (...args) => {
          await sleep(40);
          const events = await log.readAfter(...args);
          await sleep(40);
          return events;
        },
      },
    });
    try {
      const order = await placeOrder(api, customer, store);
      const channel = `order:${order.id}`;
      const published: string[] = [];
      for (let n = 0; n < 5; n++) published.push((await publish(channel, n)).id);
      const ws = await connectWs(gw.baseUrl, { token: customer.token });
      clients.push(ws);
      const publishing = (async () => {
        for (let n = 5; n < 85; n++) {
          published.push((await publish(channel, n)).id);
          await sleep(2);
        }
      })();
      const answer = await subscribe(ws, channel, published[1]);
      await publishing;
      const expected = published.slice(2);
      const ids = (await ws.take(expected.length, isEvent(channel), 8_000)).map((e) => e.id);
      // Events were published before, during and after the slow read of the log.
      expect(answer.replayed).toBeGreaterThan(5);
      expect(answer.replayed).toBeLessThan(expected.length);
      expect(ids).toEqual(expected);
      await ws.expectNothing(isEvent(channel), 150);
    } finally {
      await gw.app.close();
    }
  });

  it('replays nothing when lastEventId is the newest id', async () => {
    const order = await placeOrder(api, customer, store);
    const channel = `order:${order.id}`;
    const last = await publish(channel, 1);
    const ws = await connect({ token: customer.token });
    expect(await subscribe(ws, channel, last.id)).toMatchObject({ replayed: 0 });
    await ws.expectNothing(isEvent(channel), 150);
  });
});

describe('across instances', () => {
  it.skipIf(!realMode)(
    'delivers an event from instance A to a socket on instance B (needs PostgreSQL and Redis; embedded data is per process)',
    async () => {
      const b = await startTestPlatform({}, { shareWith: tp });
      try {
        const order = await placeOrder(api, customer, store);
        const channel = `order:${order.id}`;
        const ws = await connect({ cookie: customer.token }, b.baseUrl);
        await subscribe(ws, channel);
        const res = await api('POST', `/api/v1/merchant/orders/${order.id}/confirm`, {
          token: store.owner.token,
        });
        expect(res.status).toBe(200);
        const event = await ws.next(isEvent(channel, 'order.status'));
        expect(event.data).toMatchObject({ orderId: order.id, status: 'confirmed' });
        const direct = await publish(channel, 1);
        expect((await ws.next(isEvent(channel, 'test.tick'))).id).toBe(direct.id);
        await ws.close();
      } finally {
        await b.stop();
      }
    },
  );
});

describe('unexpected input', () => {
  const pong = (m: any) => m.type === 'pong';

  it('answers ping with pong', async () => {
    const ws = await connect({ token: customer.token });
    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });
  });

  it.each([
    { name: 'invalid JSON', raw: '{"type": "subscribe",', code: 'BAD_MESSAGE' },
    { name: 'an unknown type', raw: JSON.stringify({ type: 'teleport' }), code: 'BAD_MESSAGE' },
    {
      name: 'a malformed channel',
      raw: JSON.stringify({ type: 'subscribe', channel: 'order:../x' }),
      code: 'BAD_MESSAGE',
    },
    {
      name: 'an unknown field',
      raw: JSON.stringify({ type: 'ping', extra: 1 }),
      code: 'BAD_MESSAGE',
    },
    { name: 'a JSON array', raw: '[1,2,3]', code: 'BAD_MESSAGE' },
    {
      name: 'a message over 16 KiB',
      raw: JSON.stringify({ type: 'ping', pad: 'x'.repeat(20_000) }),
      code: 'MESSAGE_TOO_LARGE',
    },
  ])('answers $name with $code and keeps the socket usable', async ({ raw, code }) => {
    const ws = await connect({ token: customer.token });
    ws.send(raw);
    expect(await ws.next()).toMatchObject({ type: 'error', code, message: expect.any(String) });
    ws.send({ type: 'ping' });
    expect(await ws.next(pong)).toEqual({ type: 'pong' });
  });

  it('answers a binary frame with BAD_MESSAGE and keeps the socket usable', async () => {
    const ws = await connect({ token: customer.token });
    ws.socket.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    ws.send({ type: 'ping' });
    expect(await ws.next(pong)).toEqual({ type: 'pong' });
  });

  it('closes with 1009 on a frame beyond the hard 64 KiB limit', async () => {
    const ws = await connect({ token: customer.token });
    ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70_000) }));
    expect((await ws.closed).code).toBe(1009);
  });

  it('refuses a location from a customer with FORBIDDEN and its seq', async () => {
    const ws = await connect({ token: customer.token });
    ws.send({ type: 'location', lat: 49.41, lng: 8.69, seq: 7 });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'FORBIDDEN', seq: 7 });
  });

  it('answers messages beyond 20 per second with RATE_LIMITED and stays open', async () => {
    const ws = await connect({ cookie: customer.token });
    for (let i = 0; i < 60; i++) ws.send({ type: 'ping' });
    const answers = await ws.take(60, () => true);
    const pongs = answers.filter(pong).length;
    const limited = answers.filter((m) => m.code === 'RATE_LIMITED').length;
    expect(pongs + limited).toBe(60);
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(30);
    await new Promise((r) => setTimeout(r, 1100));
    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });
  });

  it('closes with 4429 when more than 200 messages are dropped within 10 s', async () => {
    const ws = await connect({ token: customer.token });
    for (let i = 0; i < 260; i++) ws.send({ type: 'ping' });
    expect((await ws.closed).code).toBe(4429);
  });
});

describe('driver locations', () => {
  it('hands a driver location to onLocation and acks or rejects it with its seq', async () => {
    const calls: Array<[string, any]> = [];
    const gw = await startGateway({
      onLocation: async (driverId, msg) => {
        calls.push([driverId, msg]);
        return msg.lat > 0 ? { accepted: true } : { accepted: false, reason: 'off the map' };
      },
    });
    try {
      const ws = await connectWs(gw.baseUrl, { token: driver.token });
      ws.send({ type: 'location', lat: 49.41, lng: 8.69, heading: 90, seq: 1 });
      expect(await ws.next()).toEqual({ type: 'ack', seq: 1 });
      ws.send({ type: 'location', lat: -1, lng: 8.69, seq: 2 });
      expect(await ws.next()).toMatchObject({
        type: 'error',
        code: 'LOCATION_REJECTED',
        message: 'off the map',
        seq: 2,
      });
      expect(calls).toEqual([
        [driver.id, { type: 'location', lat: 49.41, lng: 8.69, heading: 90, seq: 1 }],
        [driver.id, { type: 'location', lat: -1, lng: 8.69, seq: 2 }],
      ]);
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  it('times each update from its read to its ack in delivery_location_ingest_duration_seconds', async () => {
    const bucket = async (le: number) =>
      (await locationIngestDuration.get()).values.find(
        (v) => v.metricName?.endsWith('_bucket') && v.labels.le === le,
      )?.value ?? 0;
    const before = { fast: await bucket(0.05), slow: await bucket(0.1) };
    const gw = await startGateway({
      onLocation: async () => {
        await sleep(60);
        return { accepted: true };
      },
    });
    try {
      const ws = await connectWs(gw.baseUrl, { token: driver.token });
      ws.send({ type: 'location', lat: 49.41, lng: 8.69, seq: 1 });
      expect(await ws.next()).toEqual({ type: 'ack', seq: 1 });
      // 60 ms in onLocation: counted above 50 ms and at or below 100 ms.
      expect(await bucket(0.05)).toBe(before.fast);
      expect(await bucket(0.1)).toBe(before.slow + 1);
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  it('lets a newer report take the place of one still waiting, and answers every report in order', async () => {
    const messagesIn = async () =>
      (await websocketMessages.get()).values.find((v) => v.labels.direction === 'in')?.value ?? 0;
    const superseded = async () =>
      (await locationUpdates.get()).values.find((v) => v.labels.outcome === 'superseded')?.value ??
      0;
    const handled: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gw = await startGateway({
      onLocation: async (_driverId, msg) => {
        handled.push(msg.seq);
        if (msg.seq === 1) await held;
        return { accepted: true };
      },
    });
    try {
      const ws = await connectWs(gw.baseUrl, { token: driver.token });
      const before = { in: await messagesIn(), superseded: await superseded() };
      const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
      const report = (seq: number, second: number) =>
        ws.send({ type: 'location', lat: 49.41, lng: 8.69, recordedAt: at(second), seq });
      report(1, 1);
      await vi.waitFor(() => expect(handled).toEqual([1]));
      // While 1 is being stored: 3 replaces 2; the ping keeps its place, so 4 queues behind
      // it; 5 was recorded before 4 and does not replace it.
      report(2, 2);
      report(3, 3);
      ws.send({ type: 'ping' });
      report(4, 5);
      report(5, 4);
      await vi.waitFor(async () => expect(await messagesIn()).toBe(before.in + 6));
      release();
      expect(await ws.take(6)).toEqual([
        { type: 'ack', seq: 1 },
        { type: 'ack', seq: 2 },
        { type: 'ack', seq: 3 },
        { type: 'pong' },
        { type: 'ack', seq: 4 },
        { type: 'ack', seq: 5 },
      ]);
      expect(handled).toEqual([1, 3, 4, 5]);
      expect(await superseded()).toBe(before.superseded + 1);
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  // What pg's Pool throws when no connection frees up in time: the database is saturated, not
  // broken, and the client should retry as it would after HTTP's 503.
  const poolTimeout = () => new Error('timeout exceeded when trying to connect');

  it.each([
    ['INTERNAL', 'fails', () => new Error('geo index down')],
    ['UNAVAILABLE', 'meets a saturated pool', poolTimeout],
  ])('answers %s with the seq when onLocation %s, and keeps the socket', async (code, _, error) => {
    const gw = await startGateway({ onLocation: () => Promise.reject(error()) });
    try {
      const ws = await connectWs(gw.baseUrl, { token: driver.token });
      ws.send({ type: 'location', lat: 49.41, lng: 8.69, seq: 3 });
      expect(await ws.next()).toMatchObject({ type: 'error', code, seq: 3 });
      ws.send({ type: 'ping' });
      expect(await ws.next()).toEqual({ type: 'pong' });
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  it('answers UNAVAILABLE, not INTERNAL, when signing in meets a saturated pool', async () => {
    const auth = Object.create(tp.services.auth) as typeof tp.services.auth;
    auth.resolve = () => Promise.reject(poolTimeout());
    const gw = await startGateway({ auth });
    try {
      const ws = await connectWs(gw.baseUrl, { awaitReady: false });
      ws.send({ type: 'auth', token: driver.token });
      const answer = await ws.next();
      expect(answer).toMatchObject({ type: 'error', code: 'UNAVAILABLE' });
      expect(answer).not.toHaveProperty('seq');
      // Nothing was decided about the session: the socket stays open for the retry.
      ws.send({ type: 'ping' });
      expect(await ws.next()).toEqual({ type: 'pong' });
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });
});

describe('connection lifecycle', () => {
  const gauge = async () => (await websocketConnections.get()).values[0]?.value ?? 0;

  it('counts open connections in delivery_websocket_connections', async () => {
    const before = await gauge();
    const ws = await connect({ token: customer.token });
    expect(await gauge()).toBe(before + 1);
    await ws.close();
    await vi.waitFor(async () => expect(await gauge()).toBe(before), { timeout: 2000 });
    const metrics = await api('GET', '/metrics');
    expect(metrics.body).toContain('delivery_websocket_messages_total{direction="in"}');
  });

  it('terminates a socket that stops answering heartbeat pings', async () => {
    const gw = await startGateway({ limits: { heartbeatMs: 100 } });
    try {
      const ws = await connectWs(gw.baseUrl, {
        token: customer.token,
        wsOptions: { autoPong: false },
      });
      expect((await ws.closed).code).toBe(1006);
    } finally {
      await gw.app.close();
    }
  });

  it('does not ping a socket that talks, and cuts it off once it falls silent', async () => {
    const gw = await startGateway({ limits: { heartbeatMs: 300 } });
    try {
      const ws = await connectWs(gw.baseUrl, {
        token: customer.token,
        wsOptions: { autoPong: false },
      });
      let pings = 0;
      ws.socket.on('ping', () => pings++);
      let talking = true;
      const closedWhileTalking = ws.closed.then(() => talking);
      // Beats come every 300 ms; the socket speaks every ~50 ms, through at least two beats.
      for (let i = 0; i < 16; i++) {
        ws.send({ type: 'ping' });
        expect(await ws.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
        await new Promise((r) => setTimeout(r, 50));
      }
      talking = false;
      expect(pings).toBe(0);
      // Silent and not answering pings: pinged at the next beat, cut off at the one after.
      const silentSince = Date.now();
      expect((await ws.closed).code).toBe(1006);
      expect(await closedWhileTalking).toBe(false);
      expect(pings).toBe(1);
      expect(Date.now() - silentSince).toBeLessThan(3 * 300 + 300);
    } finally {
      await gw.app.close();
    }
  });

  it('keeps a socket that answers heartbeat pings', async () => {
    const gw = await startGateway({ limits: { heartbeatMs: 100 } });
    try {
      const ws = await connectWs(gw.baseUrl, { token: customer.token });
      await new Promise((r) => setTimeout(r, 450));
      ws.send({ type: 'ping' });
      expect(await ws.next()).toEqual({ type: 'pong' });
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  it('lets go of the upgrade request and reply once the socket is open', async () => {
    // Kept, they would live as long as the socket: about 5 KiB for each connection.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const upgrade: Array<WeakRef<object>> = [];
    const gw = await startGateway({}, (app) =>
      app.addHook('onRequest', async (request, reply) => {
        upgrade.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw));
      }),
    );
    try {
      const ws = await connectWs(gw.baseUrl, { cookie: customer.token, awaitReady: false });
      expect(await ws.next()).toMatchObject({ type: 'ready', userId: customer.id });
      expect(upgrade).toHaveLength(3);
      await vi.waitFor(
        async () => {
          gc();
          await yieldToIo();
          expect(upgrade.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
        },
        { timeout: 2000 },
      );
      ws.send({ type: 'ping' });
      expect(await ws.next()).toEqual({ type: 'pong' });
      await ws.close();
    } finally {
      await gw.app.close();
    }
  });

  it('closes every socket with 1012 on shutdown and drops its bus subscriptions', async () => {
    const gw = await startGateway();
    const order = await placeOrder(api, customer, store);
    const sockets = await Promise.all([
      connectWs(gw.baseUrl, { token: customer.token }),
      connectWs(gw.baseUrl, { token: admin.token }),
      connectWs(gw.baseUrl),
    ]);
    const [customerWs, adminWs] = sockets;
    await subscribe(customerWs, `order:${order.id}`);
    await subscribe(adminWs, 'fleet');
    expect(gw.gateway.channels).toBe(2);
    await gw.app.close();
    const codes = await Promise.all(sockets.map(async (s) => (await s.closed).code));
    expect(codes).toEqual([1012, 1012, 1012]);
    expect(gw.gateway.channels).toBe(0);
    expect(gw.gateway.connections).toBe(0);
  });
});
