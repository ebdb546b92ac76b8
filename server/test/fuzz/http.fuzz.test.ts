import type { Role } from '@delivery/contracts';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../../src/app.ts';
import { apiClient } from '../http.ts';
import { startTestPlatform } from '../platform.ts';
import { HEIDELBERG } from '../factories.ts';
import {
  fromSchema,
  headerSafe,
  hostileString,
  hostileValue,
  INJECTIONS,
  nearExample,
  queryValue,
  rawJsonBodies,
  type JsonSchema,
} from './arbitraries.ts';
import { buildWorld, fingerprint } from './fixtures.ts';

/**
 * Property-based fuzzing of every API route, generated from the route table and the OpenAPI
 * document (itself generated from the zod schemas the server validates with). Each request
 * comes from a user whose role the route allows. Properties: never a 5xx, errors in the API
 * shape, and a rejected request leaves every watched table exactly as it was.
 *
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> npx vitest run server/test/fuzz
 * (FUZZ_RUNS raises the number of requests per route).
 */
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20_260_601);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const ROLES: readonly Role[] = ['customer', 'driver', 'merchant', 'admin'];

// Dispatch stays off: its sweeper would write offers between requests and blur the write check.
// Error logs are kept, so a 5xx is reported with its cause.
const errors: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    errors.push(chunk.toString('utf8'));
    if (errors.length > 20) errors.shift();
    done();
  },
});
const tp = await startTestPlatform(
  { DISPATCH_ENABLED: 'false', LOG_LEVEL: 'error' },
  { logStream },
);
const api = apiClient(tp.baseUrl);
const world = await buildWorld(tp, api);
/** Statuses seen per route; FUZZ_STATS=1 prints them (how deep did the requests get?). */
const stats: Record<string, Record<number, number>> = {};
afterAll(async () => {
  if (process.env.FUZZ_STATS) console.table(stats);
  await tp.stop();
});

interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
}
const openapi = tp.app.swagger() as { paths: Record<string, Record<string, Operation>> };
const operationOf = (route: RouteEntry): Operation =>
  openapi.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()] ?? {};

const apiRoutes = tp.app.routeTable.filter((r) => r.url.startsWith('/api/'));

interface FuzzRequest {
  role: Role | null;
  path: string;
  headers: Record<string, string>;
  body?: { json: unknown } | { raw: string };
}

/**
 * Valid requests for the writing routes, in this world: mutated a little, they get past the
 * "not found" and "outside the area" checks into the transactions whose rollback is checked.
 */
const text = fc.oneof(
  fc.constantFrom<string>(...INJECTIONS),
  fc
    .string({ unit: 'grapheme', minLength: 3, maxLength: 40 })
    .map((t) => t.trim())
    .filter((t) => t.length >= 3),
);
const near = (deg: number, by = 0.02) => fc.double({ min: deg - by, max: deg + by, noNaN: true });
const reason = { reason: text };
const items = world.store.items.map((i) => i.id);
const BODY_EXAMPLES: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  'POST /api/v1/auth/register': {
    email: fc.uuid().map((u) => `fuzz-${u.slice(0, 13)}@test.example`),
    password: fc.constantFrom('password123', ...INJECTIONS.filter((t) => t.length >= 8)),
    name: text,
    phone: fc.constantFrom('+49 6221 123456', '{{7*7}}', "' OR 1=1 --"),
    role: fc.constantFrom('customer', 'driver', 'merchant'),
    vehicleType: fc.constantFrom('bicycle', 'scooter', 'car'),
  },
  'POST /api/v1/auth/login': {
    email: fc.constantFrom(...Object.values(world.users).map((u) => u.email)),
    password: fc.constantFrom('password123', 'wrong-password'),
  },
  'POST /api/v1/orders': {
    merchantId: fc.constant(world.store.id),
    items: fc.array(
      fc.record({
        menuItemId: fc.constantFrom(...items),
        quantity: fc.integer({ min: 1, max: 5 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    deliveryAddress: text,
    deliveryLat: near(HEIDELBERG.lat),
    deliveryLng: near(HEIDELBERG.lng),
    tipCents: fc.integer({ min: 0, max: 1_000 }),
    notes: text,
  },
  'POST /api/v1/merchant/menu-items': {
    name: text,
    description: text,
    priceCents: fc.integer({ min: 1, max: 5_000 }),
    category: text,
    isAvailable: fc.boolean(),
  },
  'PATCH /api/v1/merchant/menu-items/:id': { name: text, priceCents: fc.integer({ min: 1 }) },
  'PATCH /api/v1/merchant/store': {
    isOpen: fc.constant(true),
    avgPrepTimeMinutes: fc.integer({ min: 1, max: 60 }),
    deliveryRadiusKm: fc.double({ min: 2, max: 20, noNaN: true }),
  },
  'POST /api/v1/driver/go-online': { lat: near(HEIDELBERG.lat), lng: near(HEIDELBERG.lng) },
  'POST /api/v1/driver/location': {
    lat: near(HEIDELBERG.lat, 0.0005),
    lng: near(HEIDELBERG.lng, 0.0005),
    heading: fc.double({ min: 0, max: 360, noNaN: true }),
    speedMps: fc.double({ min: 0, max: 20, noNaN: true }),
  },
  'POST /api/v1/orders/:id/rating': {
    driverStars: fc.integer({ min: 1, max: 5 }),
    merchantStars: fc.integer({ min: 1, max: 5 }),
    comment: text,
  },
  'POST /api/v1/driver/orders/:id/rating': {
    customerStars: fc.integer({ min: 1, max: 5 }),
    comment: text,
  },
  'POST /api/v1/orders/:id/cancel': reason,
  'POST /api/v1/admin/orders/:id/cancel': reason,
  'POST /api/v1/merchant/orders/:id/reject': reason,
  'POST /api/v1/merchant/orders/:id/confirm': reason,
  'POST /api/v1/admin/orders/:id/reassign': {
    driverId: fc.constant(world.users.driver.id),
    reason: text,
  },
};
const QUERY_EXAMPLES: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  'GET /api/v1/merchants': {
    lat: near(HEIDELBERG.lat),
    lng: near(HEIDELBERG.lng),
    radiusKm: fc.integer({ min: 1, max: 20 }),
    q: fc.oneof(text, fc.constantFrom('Item', 'Store', '%', '_')),
    category: fc.constantFrom('restaurant', 'cafe', '%'),
  },
};

function rolesFor(route: RouteEntry): (Role | null)[] {
  if (route.auth === 'public') return [null, ...ROLES];
  if (route.auth === 'any') return [...ROLES];
  return [...route.auth];
}

function requestArb(route: RouteEntry): fc.Arbitrary<FuzzRequest> {
  const op = operationOf(route);
  const params = op.parameters ?? [];
  const pool = { ids: world.ids };
  const idArb = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...world.ids) },
    { weight: 1, arbitrary: fc.uuid({ version: 4 }) },
    { weight: 2, arbitrary: hostileString.filter((s) => s.length > 0) },
  );
  const key = `${route.method} ${route.url}`;
  const query = fc.record(
    Object.fromEntries(
      params
        .filter((p) => p.in === 'query')
        .map((p) => [
          p.name,
          // A valid cursor only comes from a previous page: mostly leave it out.
          p.name === 'cursor'
            ? fc.option(queryValue(p.schema, pool), { freq: 4, nil: undefined })
            : queryValue(p.schema, pool, QUERY_EXAMPLES[key]?.[p.name]),
        ]),
    ),
  );
  const extraQuery = fc.option(fc.tuple(hostileString, hostileString), { freq: 4 });
  const headers = fc.record(
    Object.fromEntries(
      params
        .filter((p) => p.in === 'header')
        .map((p) => [
          p.name,
          fc
            .oneof({ weight: 9, arbitrary: fromSchema(p.schema, pool) }, hostileString)
            .map(String)
            .filter(headerSafe),
        ]),
    ),
  );
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const sendsBody = route.method !== 'GET' && route.method !== 'DELETE';
  const example = BODY_EXAMPLES[key];
  const body: fc.Arbitrary<FuzzRequest['body']> = !sendsBody
    ? fc.constant(undefined)
    : fc.oneof(
        ...(example
          ? [
              {
                weight: 12,
                arbitrary: nearExample(example, schema, pool).map((json) => ({ json })),
              },
            ]
          : []),
        ...(schema
          ? [
              { weight: 2, arbitrary: fromSchema(schema, pool).map((json) => ({ json })) },
              { weight: 3, arbitrary: fromSchema(schema, pool, 0.15).map((json) => ({ json })) },
            ]
          : [{ weight: 2, arbitrary: fc.constant(undefined) }]),
        { weight: 1, arbitrary: hostileValue.map((json) => ({ json })) },
        { weight: 1, arbitrary: rawJsonBodies.map((raw) => ({ raw })) },
      );
  return fc
    .record({
      role: fc.constantFrom(...rolesFor(route)),
      id: idArb,
      query,
      extraQuery,
      headers,
      body,
    })
    .map(({ role, id, query, extraQuery, headers, body }) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) search.append(k, v);
      if (extraQuery) search.append(...extraQuery);
      const qs = search.toString();
      // A lone surrogate cannot be percent-encoded: it travels as U+FFFD, as a browser sends it.
      const segment = encodeURIComponent(Buffer.from(id, 'utf8').toString('utf8'));
      const path = route.url.replace(':id', segment) + (qs ? `?${qs}` : '');
      return { role, path, headers, ...(body ? { body } : {}) };
    });
}

/** Logout routes revoke what they are given: they get a fresh session of a throwaway user. */
const throwaway: Partial<Record<Role, { email: string }>> = {};
async function tokenFor(route: RouteEntry, role: Role): Promise<string> {
  if (!route.url.includes('/auth/logout')) return world.users[role].token;
  if (!throwaway[role]) {
    const email = `fuzz-${role}-${Date.now()}@test.local`;
    if (role === 'admin') {
      const hash = await tp.services.hasher.hash('password123');
      await tp.infra.db.query(
        `INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, 'Fuzz', 'admin')`,
        [email, hash],
      );
    } else {
      await api('POST', '/api/v1/auth/register', {
        body: {
          email,
          password: 'password123',
          name: 'Fuzz',
          role,
          ...(role === 'driver' ? { vehicleType: 'car' } : {}),
        },
      });
    }
    throwaway[role] = { email };
  }
  const res = await api('POST', '/api/v1/auth/login', {
    body: { email: throwaway[role].email, password: 'password123' },
  });
  return res.body.token;
}

async function send(route: RouteEntry, req: FuzzRequest, token: string | null) {
  const headers: Record<string, string> = { ...req.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (req.body) {
    headers['content-type'] = 'application/json';
    body = 'raw' in req.body ? req.body.raw : JSON.stringify(req.body.json);
  }
  const res = await fetch(tp.baseUrl + req.path, { method: route.method, headers, body });
  const text = await res.text();
  return { status: res.status, text };
}

const shorten = (_key: string, v: unknown) =>
  typeof v === 'string' && v.length > 300 ? `${v.slice(0, 120)}…(${v.length} chars)` : v;
const describeRequest = (route: RouteEntry, req: FuzzRequest) =>
  JSON.stringify({ method: route.method, ...req }, shorten);

describe('HTTP fuzzing from the route table and the schemas', () => {
  it('has an OpenAPI operation for every API route it fuzzes', () => {
    for (const route of apiRoutes) {
      expect(openapi.paths[route.url.replace(/:(\w+)/g, '{$1}')], route.url).toBeDefined();
    }
    expect(apiRoutes.length).toBeGreaterThan(40);
  });

  it.each(apiRoutes.map((r, i) => [`${r.method} ${r.url}`, r, i] as const))(
    '%s: never a 5xx, errors in the API shape, nothing written when refused',
    async (_name, route, index) => {
      let before = await fingerprint(tp);
      const seed = BASE_SEED + index;
      await fc.assert(
        fc.asyncProperty(requestArb(route), async (req) => {
          const token = req.role ? await tokenFor(route, req.role) : null;
          // Signing the throwaway user in wrote a session: that is not the request's doing.
          if (route.url.includes('/auth/logout')) before = await fingerprint(tp);
          const res = await send(route, req, token);
          const seen = (stats[`${route.method} ${route.url}`] ??= {});
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          await tp.services.history.flush();
          const after = await fingerprint(tp);
          const where = `${describeRequest(route, req)} → ${res.status} ${res.text.slice(0, 300)}`;
          if (res.status >= 500) {
            throw new Error(`5xx: ${where}\nserver log: ${errors.slice(-2).join('')}`);
          }
          if (res.status >= 400) {
            const parsed = JSON.parse(res.text) as { error?: { code?: unknown } };
            if (typeof parsed.error?.code !== 'string') throw new Error(`bad error: ${where}`);
            const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
            if (changed.length) throw new Error(`refused but wrote ${changed.join(',')}: ${where}`);
          }
          before = after;
        }),
        { numRuns: RUNS, seed, endOnFailure: true },
      );
    },
  );
});
