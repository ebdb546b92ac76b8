import type { OrderStatus, Role } from '@delivery/contracts';

/**
 * The order state machine: which status may follow which, and who may make the move.
 * Everything not listed is an illegal transition (409).
 */
export const TRANSITIONS: Readonly<
  Record<OrderStatus, Partial<Record<OrderStatus, readonly Role[]>>>
> = {
  pending: { confirmed: ['merchant'], cancelled: ['customer', 'merchant', 'admin'] },
  confirmed: { preparing: ['merchant'], cancelled: ['customer', 'admin'] },
  preparing: { ready_for_pickup: ['merchant'], cancelled: ['customer', 'admin'] },
  ready_for_pickup: { picked_up: ['driver'], cancelled: ['customer', 'admin'] },
  picked_up: { delivered: ['driver'] },
  delivered: {},
  cancelled: {},
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from][to] !== undefined;
}

/** The statuses from which `role` may move an order to `to` (a system actor: any allowed). */
export function sourcesFor(to: OrderStatus, role: Role | 'system'): OrderStatus[] {
  return (Object.keys(TRANSITIONS) as OrderStatus[]).filter((from) => {
    const roles = TRANSITIONS[from][to];
    return roles !== undefined && (role === 'system' || roles.includes(role));
  });
}

/** The column holding the time an order reached each status. */
export const STATUS_TIMESTAMP: Readonly<Record<OrderStatus, string>> = {
  pending: 'created_at',
  confirmed: 'confirmed_at',
  preparing: 'preparing_at',
  ready_for_pickup: 'ready_at',
  picked_up: 'picked_up_at',
  delivered: 'delivered_at',
  cancelled: 'cancelled_at',
};

export const ACTIVE_STATUSES: readonly OrderStatus[] = [
  'pending',
  'confirmed',
  'preparing',
  'ready_for_pickup',
  'picked_up',
];
