/**
 * A delivery from start to finish through the public API and WebSocket only, against a running
 * server with the demo data (`npm start`, or several instances: pass one URL per role).
 *
 *   npm run walkthrough -- [--url http://localhost:3000] [--driver-url URL] [--customer-url URL]
 *
 * Three drivers go online, customer 1 orders from merchant 1, the merchant confirms; the nearest
 * driver's offer is left to expire, the next driver gets one and accepts; the customer's socket
 * sees the driver move and the ETA; pickup, delivery, ratings both ways; admin stats at the end.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:3000' },
    'driver-url': { type: 'string' },
    'customer-url': { type: 'string' },
  },
});
const baseUrl = args.url;
const driverUrl = args['driver-url'] ?? baseUrl;
const customerUrl = args['customer-url'] ?? baseUrl;
const PASSWORD = 'demo1234';

type Json = Record<string, any>;

async function call(
  url: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Json = {},
) {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Json) : {};
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return json;
}

const login = async (url: string, email: string) =>
  (await call(url, 'POST', '/api/v1/auth/login', undefined, { email, password: PASSWORD }))
    .token as string;

const step = (msg: string) => console.log(`\n▶ ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  ms = 90_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function socket(url: string, token: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
  const events: Json[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Json;
    events.push(m);
    if (m.type === 'order.driver_location')
      console.log(
        `  customer socket: driver at ${m.data.lat.toFixed(5)}, ${m.data.lng.toFixed(5)}`,
      );
    if (m.type === 'order.eta') console.log(`  customer socket: ETA ${m.data.minutes} min`);
    if (m.type === 'order.status') console.log(`  customer socket: status ${m.data.status}`);
  });
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      resolve();
    });
    ws.once('error', reject);
  });
  return { ws, events, open };
}

async function main() {
  step(`logging in the demo accounts at ${baseUrl}`);
  const admin = await login(baseUrl, 'admin@demo.local');
  const customer = await login(customerUrl, 'customer1@demo.local');
  const merchant = await login(baseUrl, 'merchant1@demo.local');
  const drivers = await Promise.all(
    [1, 2, 3].map((n) => login(driverUrl, `driver${n}@demo.local`)),
  );

  const store = (await call(baseUrl, 'GET', '/api/v1/merchant/store', merchant)).merchant as Json;
  const menu = (await call(baseUrl, 'GET', `/api/v1/merchants/${store.id}/menu`)).items as Json[];
  const item = menu.find((i) => i.isAvailable)!;

  step('three drivers go online at 200 m, 600 m and 1.5 km from the store');
  const spots = [0.2, 0.6, 1.5].map((km) => ({ lat: store.lat + km * 0.009, lng: store.lng }));
  for (const [i, token] of drivers.entries()) {
    await call(driverUrl, 'POST', '/api/v1/driver/go-online', token, spots[i]);
  }

  step(`customer orders ${item.name} from ${store.name}`);
  const key = randomUUID();
  const body = {
    merchantId: store.id,
    items: [{ menuItemId: item.id, quantity: 2 }],
    deliveryAddress: 'Plöck 45, 69117 Heidelberg',
    deliveryLat: 49.4092,
    deliveryLng: 8.699,
    tipCents: 200,
  };
  const placed = (
    await call(customerUrl, 'POST', '/api/v1/orders', customer, body, { 'x-idempotency-key': key })
  ).order;
  const retry = (
    await call(customerUrl, 'POST', '/api/v1/orders', customer, body, { 'x-idempotency-key': key })
  ).order;
  console.log(
    `  order ${placed.id}: total €${(placed.totalCents / 100).toFixed(2)}; retry returned the same order: ${retry.id === placed.id}`,
  );

  const cs = socket(customerUrl, customer);
  await cs.open;
  await sleep(200);
  cs.ws.send(JSON.stringify({ type: 'subscribe', channel: `order:${placed.id}` }));

  step('merchant confirms; dispatch starts');
  await call(baseUrl, 'POST', `/api/v1/merchant/orders/${placed.id}/confirm`, merchant);

  // Drivers keep reporting their positions every 3 s, as their apps do.
  const positions = spots.map((p) => ({ ...p }));
  const heartbeat = setInterval(() => {
    for (const [i, token] of drivers.entries()) {
      void call(driverUrl, 'POST', '/api/v1/driver/location', token, positions[i]).catch(
        () => undefined,
      );
    }
  }, 3_000);

  try {
    const firstOffer = await waitFor(
      'the first offer',
      async () => (await call(driverUrl, 'GET', '/api/v1/driver/offers', drivers[0])).offer,
    );
    console.log(
      `  driver1 (nearest) got offer ${firstOffer.id}, €${(firstOffer.earningsCents / 100).toFixed(2)}, expires ${firstOffer.expiresAt}`,
    );

    step('driver1 lets it expire; the next driver gets the order');
    const second = await waitFor('the next offer', async () => {
      for (const [i, token] of drivers.entries()) {
        const o = (await call(driverUrl, 'GET', '/api/v1/driver/offers', token)).offer;
        if (o && o.orderId === placed.id && i > 0) return { offer: o, driver: i };
      }
      return null;
    });
    console.log(`  driver${second.driver + 1} got offer ${second.offer.id}`);
    await call(
      driverUrl,
      'POST',
      `/api/v1/driver/offers/${second.offer.id}/accept`,
      drivers[second.driver],
    );
    console.log(`  driver${second.driver + 1} accepted`);

    step('kitchen prepares; the driver heads to the store, then to the customer');
    await call(baseUrl, 'POST', `/api/v1/merchant/orders/${placed.id}/preparing`, merchant);
    const me = positions[second.driver]!;
    for (let i = 0; i < 4; i++) {
      me.lat += (store.lat - me.lat) / 2;
      me.lng += (store.lng - me.lng) / 2;
      await call(driverUrl, 'POST', '/api/v1/driver/location', drivers[second.driver], me);
      await sleep(1_100);
    }
    await call(baseUrl, 'POST', `/api/v1/merchant/orders/${placed.id}/ready`, merchant);
    await call(
      driverUrl,
      'POST',
      `/api/v1/driver/orders/${placed.id}/picked-up`,
      drivers[second.driver],
    );
    for (let i = 0; i < 4; i++) {
      me.lat += (body.deliveryLat - me.lat) / 2;
      me.lng += (body.deliveryLng - me.lng) / 2;
      await call(driverUrl, 'POST', '/api/v1/driver/location', drivers[second.driver], me);
      await sleep(1_100);
    }
    await call(
      driverUrl,
      'POST',
      `/api/v1/driver/orders/${placed.id}/delivered`,
      drivers[second.driver],
    );

    step('ratings both ways');
    await call(customerUrl, 'POST', `/api/v1/orders/${placed.id}/rating`, customer, {
      driverStars: 5,
      merchantStars: 4,
      comment: 'Warm and quick',
    });
    await call(
      driverUrl,
      'POST',
      `/api/v1/driver/orders/${placed.id}/rating`,
      drivers[second.driver],
      { customerStars: 5 },
    );

    const seen = (type: string) => cs.events.filter((e) => e.type === type).length;
    console.log(
      `  customer socket saw ${seen('order.driver_location')} location and ${seen('order.eta')} ETA events, ${seen('order.status')} status changes`,
    );
    if (seen('order.driver_location') === 0 || seen('order.eta') === 0)
      throw new Error('the customer saw no live tracking');

    step('admin stats');
    const stats = await call(baseUrl, 'GET', '/api/v1/admin/stats', admin);
    console.log(JSON.stringify(stats, null, 2));
  } finally {
    clearInterval(heartbeat);
    cs.ws.close();
    for (const token of drivers)
      await call(driverUrl, 'POST', '/api/v1/driver/go-offline', token).catch(() => undefined);
  }
  console.log('\n✔ walkthrough complete');
}

main().catch((err: unknown) => {
  console.error(`\n✘ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
