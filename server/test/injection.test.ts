import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAdmin,
  createStore,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { INJECTIONS, type JsonSchema } from './fuzz/arbitraries.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * Every free-text field of the API (found in the OpenAPI document: strings without a format,
 * pattern or enum) is sent each injection payload and must give it back verbatim: no
 * escaping, no truncation, no interpretation, no error. A new text field fails the coverage
 * test until a round trip is written for it here.
 */
let tp: TestPlatform;
let api: Api;
let customer: TestUser;
let driver: TestUser;
let admin: TestUser;
let store: TestStore;
let otherStore: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
  api = apiClient(tp.baseUrl);
  customer = await registerUser(api, 'customer');
  driver = await registerUser(api, 'driver');
  admin = await createAdmin(tp, api);
  store = await createStore(tp, api);
  otherStore = await createStore(tp, api);
});
afterAll(() => tp?.stop());

interface Operation {
  parameters?: { in: string; name: string; schema: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
}

const isFreeText = (s: JsonSchema) =>
  s.type === 'string' && !s.format && !s.pattern && !s.enum && s.const === undefined;

/** `METHOD /url field` → the field's schema, for every free-text field of every API route. */
function freeTextFields(): Map<string, JsonSchema> {
  const doc = tp.app.swagger() as { paths: Record<string, Record<string, Operation>> };
  const out = new Map<string, JsonSchema>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/')) continue;
    const url = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${url}`;
      const body = op.requestBody?.content?.['application/json']?.schema;
      for (const [name, prop] of Object.entries(body?.properties ?? {})) {
        if (isFreeText(prop)) out.set(`${route} body.${name}`, prop);
      }
      for (const p of op.parameters ?? []) {
        // Cursors are opaque tokens the server made, not text a user writes.
        if (p.in === 'query' && p.name !== 'cursor' && isFreeText(p.schema)) {
          out.set(`${route} query.${p.name}`, p.schema);
        }
      }
    }
  }
  return out;
}

const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
};

async function orderIn(status: string, withDriver = false) {
  const order = await placeOrder(api, customer, store);
  await tp.infra.db.query(
    `UPDATE orders SET status = $2, driver_id = $3,
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1`,
    [order.id, status, withDriver ? driver.id : null],
  );
  return order.id;
}

const eventReason = async (orderId: string, toStatus: string) =>
  (
    await tp.infra.db.query<{ reason: string }>(
      `SELECT reason FROM order_events WHERE order_id = $1 AND to_status = $2
       ORDER BY id DESC LIMIT 1`,
      [orderId, toStatus],
    )
  ).rows[0]?.reason;

let seq = 0;
const email = () => `inj-${Date.now()}-${seq++}@test.local`;

async function registerWith(fields: Record<string, string>) {
  const body = {
    email: email(),
    password: 'password123',
    name: 'Inj',
    role: 'customer',
    ...fields,
  };
  const res = await ok(api('POST', '/api/v1/auth/register', { body }), 201);
  return { body, res };
}

async function newMenuItem(fields: Record<string, string>) {
  const body = { name: 'Plain', priceCents: 500, ...fields };
  return (
    await ok(api('POST', '/api/v1/merchant/menu-items', { token: store.owner.token, body }), 201)
  ).item;
}

async function menuOf(merchantId: string) {
  return (await ok(api('GET', `/api/v1/merchants/${merchantId}/menu`))).items as any[];
}

const merchantMove = (action: string, from: string, to: string) => async (s: string) => {
  const id = await orderIn(from);
  const body = { reason: s };
  const res = await ok(
    api('POST', `/api/v1/merchant/orders/${id}/${action}`, { token: store.owner.token, body }),
  );
  if (to === 'cancelled') expect(res.order.cancelReason).toBe(s);
  expect(await eventReason(id, to)).toBe(s);
};

const menuItemField =
  (field: 'name' | 'description' | 'category', patch: boolean) => async (s: string) => {
    const item = patch
      ? (
          await ok(
            api('PATCH', `/api/v1/merchant/menu-items/${(await newMenuItem({})).id}`, {
              token: store.owner.token,
              body: { [field]: s },
            }),
          )
        ).item
      : await newMenuItem({ [field]: s });
    expect(item[field]).toBe(s);
    expect((await menuOf(store.id)).find((i) => i.id === item.id)?.[field]).toBe(s);
  };

const orderField = (field: 'deliveryAddress' | 'notes') => async (s: string) => {
  const order = await placeOrder(api, customer, store, { [field]: s });
  expect((order as Record<string, unknown>)[field]).toBe(s);
  const read = await ok(api('GET', `/api/v1/orders/${order.id}`, { token: customer.token }));
  expect(read.order[field]).toBe(s);
};

const password = async (s: string) => {
  const { body } = await registerWith({ password: s });
  await ok(api('POST', '/api/v1/auth/login', { body: { email: body.email, password: s } }));
};

const ROUND_TRIPS: Record<string, (s: string) => Promise<void>> = {
  'POST /api/v1/auth/register body.password': password,
  // Login takes shorter passwords than registration does (older accounts, seeded admins).
  'POST /api/v1/auth/login body.password': async (s) => {
    const mail = email();
    await tp.infra.db.query(
      `INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, 'Inj', 'customer')`,
      [mail, await tp.services.hasher.hash(s)],
    );
    await ok(api('POST', '/api/v1/auth/login', { body: { email: mail, password: s } }));
  },
  'POST /api/v1/auth/register body.name': async (s) => {
    const { res } = await registerWith({ name: s });
    expect(res.user.name).toBe(s);
    expect((await ok(api('GET', '/api/v1/auth/me', { token: res.token }))).user.name).toBe(s);
  },
  'POST /api/v1/auth/register body.phone': async (s) => {
    const { res } = await registerWith({ phone: s });
    expect((await ok(api('GET', '/api/v1/auth/me', { token: res.token }))).user.phone).toBe(s);
  },
  'POST /api/v1/orders body.deliveryAddress': orderField('deliveryAddress'),
  'POST /api/v1/orders body.notes': orderField('notes'),
  'POST /api/v1/orders/:id/cancel body.reason': async (s) => {
    const id = await orderIn('pending');
    const body = { reason: s };
    const res = await ok(
      api('POST', `/api/v1/orders/${id}/cancel`, { token: customer.token, body }),
    );
    expect(res.order.cancelReason).toBe(s);
  },
  'POST /api/v1/orders/:id/rating body.comment': async (s) => {
    const id = await orderIn('delivered', true);
    const body = { driverStars: 4, comment: s };
    const res = await ok(
      api('POST', `/api/v1/orders/${id}/rating`, { token: customer.token, body }),
      201,
    );
    expect(res.ratings.map((r: any) => r.comment)).toEqual([s]);
    const read = await ok(api('GET', `/api/v1/orders/${id}/ratings`, { token: customer.token }));
    expect(read.ratings.map((r: any) => r.comment)).toEqual([s]);
  },
  'POST /api/v1/driver/orders/:id/rating body.comment': async (s) => {
    const id = await orderIn('delivered', true);
    const body = { customerStars: 5, comment: s };
    const res = await ok(
      api('POST', `/api/v1/driver/orders/${id}/rating`, { token: driver.token, body }),
      201,
    );
    expect(res.ratings[0].comment).toBe(s);
  },
  'POST /api/v1/admin/orders/:id/cancel body.reason': async (s) => {
    const id = await orderIn('confirmed');
    const body = { reason: s };
    const res = await ok(
      api('POST', `/api/v1/admin/orders/${id}/cancel`, { token: admin.token, body }),
    );
    expect(res.order.cancelReason).toBe(s);
    expect(await eventReason(id, 'cancelled')).toBe(s);
  },
  'POST /api/v1/admin/orders/:id/reassign body.reason': async (s) => {
    const id = await orderIn('confirmed');
    const body = { reason: s };
    await ok(api('POST', `/api/v1/admin/orders/${id}/reassign`, { token: admin.token, body }));
    expect(await eventReason(id, 'confirmed')).toBe(s);
  },
  'POST /api/v1/merchant/orders/:id/confirm body.reason': merchantMove(
    'confirm',
    'pending',
    'confirmed',
  ),
  'POST /api/v1/merchant/orders/:id/reject body.reason': merchantMove(
    'reject',
    'pending',
    'cancelled',
  ),
  'POST /api/v1/merchant/orders/:id/preparing body.reason': merchantMove(
    'preparing',
    'confirmed',
    'preparing',
  ),
  'POST /api/v1/merchant/orders/:id/ready body.reason': merchantMove(
    'ready',
    'preparing',
    'ready_for_pickup',
  ),
  'POST /api/v1/merchant/menu-items body.name': menuItemField('name', false),
  'POST /api/v1/merchant/menu-items body.description': menuItemField('description', false),
  'POST /api/v1/merchant/menu-items body.category': menuItemField('category', false),
  'PATCH /api/v1/merchant/menu-items/:id body.name': menuItemField('name', true),
  'PATCH /api/v1/merchant/menu-items/:id body.description': menuItemField('description', true),
  'PATCH /api/v1/merchant/menu-items/:id body.category': menuItemField('category', true),
  'GET /api/v1/merchants query.q': async (s) => {
    await newMenuItem({ name: `dish ${s} special` });
    const res = await ok(api('GET', `/api/v1/merchants?q=${encodeURIComponent(s)}`));
    const ids = res.items.map((m: any) => m.id);
    // Matched literally: '%' or '_' in the text are not wildcards that pull in other stores.
    expect(ids).toContain(store.id);
    expect(ids).not.toContain(otherStore.id);
  },
  'GET /api/v1/merchants query.category': async (s) => {
    await tp.infra.db.query('UPDATE merchants SET category = $2 WHERE id = $1', [otherStore.id, s]);
    const res = await ok(api('GET', `/api/v1/merchants?category=${encodeURIComponent(s)}`));
    expect(res.items.map((m: any) => [m.id, m.category])).toEqual([[otherStore.id, s]]);
  },
};

describe('injection payloads in every text field', () => {
  it('has a round trip for every free-text field of the API', () => {
    expect(Object.keys(ROUND_TRIPS).sort()).toEqual([...freeTextFields().keys()].sort());
  });

  it.each(Object.keys(ROUND_TRIPS))('%s keeps every payload verbatim', async (field) => {
    const schema = freeTextFields().get(field)!;
    const fits = INJECTIONS.filter(
      (s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity),
    );
    expect(fits.length).toBeGreaterThan(INJECTIONS.length / 2);
    for (const payload of fits) {
      try {
        await ROUND_TRIPS[field]!(payload);
      } catch (err) {
        throw new Error(`payload ${JSON.stringify(payload)}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  });

  it('refuses a NUL character or an unpaired surrogate with 400 and stores nothing', async () => {
    const items = async () => (await tp.infra.db.query('SELECT 1 FROM menu_items')).rowCount;
    const before = await items();
    for (const bad of ['nul\u0000byte', 'lone \uD800 surrogate']) {
      const res = await api('POST', '/api/v1/merchant/menu-items', {
        token: store.owner.token,
        body: { name: bad, priceCents: 100 },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [{ path: 'body.name' }] },
      });
    }
    expect(await items()).toBe(before);
    // A URL carries UTF-8, where no unpaired surrogate exists; a NUL it can carry.
    const search = await api('GET', '/api/v1/merchants?q=nul%00byte');
    expect(search.status).toBe(400);
    expect(search.body.error.details.issues[0].path).toBe('querystring.q');
  });
});
