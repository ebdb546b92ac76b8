import { ORDER_STATUSES, type OrderStatus } from '@delivery/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../src/errors.ts';
import { statusOf } from '../src/http/errors.ts';
import { canTransition, STATUS_TIMESTAMP } from '../src/orders/order-state.ts';
import {
  createStore,
  placeOrder,
  registerUser,
  type TestStore,
  type TestUser,
} from './factories.ts';
import { apiClient } from './http.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

let tp: TestPlatform;
let customer: TestUser;
let store: TestStore;

beforeAll(async () => {
  tp = await startTestPlatform();
  const api = apiClient(tp.baseUrl);
  customer = await registerUser(api, 'customer');
  store = await createStore(tp, api);
  orderFor = async (status: OrderStatus) => {
    const order = await placeOrder(api, customer, store);
    // Put the order straight into the state under test; the service must take it from there.
    await tp.infra.db.query(`UPDATE orders SET status = $2 WHERE id = $1`, [order.id, status]);
    return order.id;
  };
});
afterAll(() => tp?.stop());

let orderFor: (status: OrderStatus) => Promise<string>;

const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

describe('every pair of order states', () => {
  it.each(pairs)('%s → %s succeeds only when the state machine allows it', async (from, to) => {
    const id = await orderFor(from);
    const actor = { id: null, role: 'system' as const };
    if (canTransition(from, to)) {
      const order = await tp.services.orders.transition(id, to, actor);
      expect(order.status).toBe(to);
      const stamp = await tp.infra.db.query<{ t: Date | null }>(
        `SELECT ${STATUS_TIMESTAMP[to]} AS t FROM orders WHERE id = $1`,
        [id],
      );
      expect(stamp.rows[0]!.t).toBeInstanceOf(Date);
    } else {
      const err = await tp.services.orders.transition(id, to, actor).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect(statusOf((err as DomainError).code)).toBe(409);
      expect((err as DomainError).details).toEqual({ currentStatus: from });
      const row = await tp.infra.db.query<{ status: string }>(
        'SELECT status FROM orders WHERE id = $1',
        [id],
      );
      expect(row.rows[0]!.status).toBe(from);
    }
  });

  it("refuses a move the state machine allows but not to the caller's role", async () => {
    const id = await orderFor('confirmed');
    const err = await tp.services.orders
      .transition(id, 'cancelled', { id: null, role: 'merchant' })
      .catch((e: unknown) => e);
    expect((err as DomainError).code).toBe('ORDER_NOT_CANCELLABLE');
  });

  it('allows exactly the documented transitions', () => {
    const allowed = pairs
      .filter(([from, to]) => canTransition(from, to))
      .map(([f, t]) => `${f}>${t}`);
    expect(allowed.sort()).toEqual(
      [
        'pending>confirmed',
        'pending>cancelled',
        'confirmed>preparing',
        'confirmed>cancelled',
        'preparing>ready_for_pickup',
        'preparing>cancelled',
        'ready_for_pickup>picked_up',
        'ready_for_pickup>cancelled',
        'picked_up>delivered',
      ].sort(),
    );
  });
});
