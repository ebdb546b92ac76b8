import type { Role } from '@delivery/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, createStore, registerUser, type TestUser } from './factories.ts';
import { apiClient, type Api } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/**
 * The access table: every API route and who may call it. A route missing here fails the
 * coverage test, so a new route cannot ship without its rule being stated and checked.
 */
type Rule = readonly Role[] | 'any' | 'public';
const ALL: readonly Role[] = ['customer', 'driver', 'merchant', 'admin'];
const TABLE: Record<string, Rule> = {
  'POST /api/v1/auth/register': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/logout': 'any',
  'POST /api/v1/auth/logout-all': 'any',
  'GET /api/v1/auth/me': 'any',
  'GET /api/v1/merchants': 'public',
  'GET /api/v1/merchants/:id': 'public',
  'GET /api/v1/merchants/:id/menu': 'public',
  'GET /api/v1/merchant/store': ['merchant'],
  'PATCH /api/v1/merchant/store': ['merchant'],
  'POST /api/v1/merchant/menu-items': ['merchant'],
  'PATCH /api/v1/merchant/menu-items/:id': ['merchant'],
  'DELETE /api/v1/merchant/menu-items/:id': ['merchant'],
  'POST /api/v1/orders': ['customer'],
  'GET /api/v1/orders': ['customer'],
  'GET /api/v1/orders/:id': 'any',
  'POST /api/v1/orders/:id/cancel': ['customer'],
  'GET /api/v1/merchant/orders': ['merchant'],
  'POST /api/v1/merchant/orders/:id/confirm': ['merchant'],
  'POST /api/v1/merchant/orders/:id/reject': ['merchant'],
  'POST /api/v1/merchant/orders/:id/preparing': ['merchant'],
  'POST /api/v1/merchant/orders/:id/ready': ['merchant'],
  'POST /api/v1/orders/:id/rating': ['customer'],
  'POST /api/v1/driver/orders/:id/rating': ['driver'],
  'GET /api/v1/orders/:id/ratings': 'any',
  'GET /api/v1/notifications': 'any',
  'POST /api/v1/notifications/:id/read': 'any',
  'GET /api/v1/admin/stats': ['admin'],
  'GET /api/v1/admin/orders': ['admin'],
  'GET /api/v1/admin/drivers': ['admin'],
  'POST /api/v1/admin/orders/:id/cancel': ['admin'],
  'POST /api/v1/admin/orders/:id/reassign': ['admin'],
  'GET /api/v1/driver/status': ['driver'],
  'POST /api/v1/driver/go-online': ['driver'],
  'POST /api/v1/driver/go-offline': ['driver'],
  'POST /api/v1/driver/location': ['driver'],
  'GET /api/v1/driver/offers': ['driver'],
  'POST /api/v1/driver/offers/:id/accept': ['driver'],
  'POST /api/v1/driver/offers/:id/reject': ['driver'],
  'GET /api/v1/driver/orders': ['driver'],
  'POST /api/v1/driver/orders/:id/picked-up': ['driver'],
  'POST /api/v1/driver/orders/:id/delivered': ['driver'],
  'GET /api/v1/driver/earnings': ['driver'],
};

let tp: TestPlatform;
let api: Api;
const users = {} as Record<Role, TestUser>;

beforeAll(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.baseUrl);
  users.customer = await registerUser(api, 'customer');
  users.driver = await registerUser(api, 'driver');
  users.merchant = (await createStore(tp, api)).owner;
  users.admin = await createAdmin(tp, api);
});
afterAll(() => tp?.stop());

const apiRoutes = () => tp.app.routeTable.filter((r) => r.url.startsWith('/api/'));
const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
const call = (method: string, url: string, token?: string) =>
  api(method, url.replace(':id', crypto.randomUUID()), {
    ...(token ? { token } : {}),
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }),
  });

describe('route × role access table', () => {
  it('states a rule for every registered API route, and the server enforces that rule', () => {
    const registered = apiRoutes().map((r) => [keyOf(r), r.auth]);
    expect(Object.fromEntries(registered)).toEqual(TABLE);
  });

  const cases = Object.entries(TABLE).flatMap(([route, rule]) => [
    ...(rule === 'public' ? [] : [[route, 'nobody', 401] as const]),
    ...ALL.map((role) => {
      const allowed = rule === 'public' || rule === 'any' || rule.includes(role);
      return [route, role, allowed ? 'allowed' : 403] as const;
    }),
  ]);

  it.each(cases)('%s as %s → %s', async (route, who, expected) => {
    const [method, url] = route.split(' ') as [string, string];
    // A fresh session per case: the logout case must not sign the other cases out.
    const token =
      who === 'nobody'
        ? undefined
        : (
            await api('POST', '/api/v1/auth/login', {
              body: { email: users[who].email, password: 'password123' },
            })
          ).body.token;
    const res = await call(method, url, token);
    if (expected === 'allowed') {
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(500);
    } else {
      expect(res.status).toBe(expected);
      expect(res.body.error.code).toBe(expected === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    }
  });
});
