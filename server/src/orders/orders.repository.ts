import type { Order, OrderStatus } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';
import { STATUS_TIMESTAMP } from './order-state.ts';

export interface OrderRow {
  id: string;
  created_at: Date;
  customer_id: string;
  merchant_id: string;
  merchant_name: string;
  /** The store owner's user id (who is told about the order). */
  merchant_owner_id: string | null;
  merchant_lat: number;
  merchant_lng: number;
  merchant_prep_minutes: number;
  driver_id: string | null;
  status: OrderStatus;
  delivery_address: string;
  delivery_lat: number;
  delivery_lng: number;
  notes: string | null;
  distance_km: number;
  subtotal_cents: number;
  delivery_fee_cents: number;
  tip_cents: number;
  total_cents: number;
  cancel_reason: string | null;
  dispatch_status: 'idle' | 'searching' | 'offered' | 'assigned' | 'stopped';
  needs_attention_at: Date | null;
  predicted_delivery_at: Date | null;
  confirmed_at: Date | null;
  preparing_at: Date | null;
  ready_at: Date | null;
  assigned_at: Date | null;
  picked_up_at: Date | null;
  delivered_at: Date | null;
  cancelled_at: Date | null;
  driver_name: string | null;
  driver_vehicle: string | null;
  driver_rating: number | null;
  driver_lat: number | null;
  driver_lng: number | null;
}

interface ItemRow {
  id: string;
  order_id: string;
  menu_item_id: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An order with its store's and driver's columns, read from `orders` or from a CTE of its rows. */
const orderSelect = (source: string) => `
  SELECT o.*, m.name AS merchant_name, m.owner_id AS merchant_owner_id,
         m.lat AS merchant_lat, m.lng AS merchant_lng, m.avg_prep_time_minutes AS merchant_prep_minutes,
         du.name AS driver_name, d.vehicle_type AS driver_vehicle,
         d.rating AS driver_rating, d.current_lat AS driver_lat, d.current_lng AS driver_lng
  FROM ${source} o
  JOIN merchants m ON m.id = o.merchant_id
  LEFT JOIN drivers d ON d.id = o.driver_id
  LEFT JOIN users du ON du.id = o.driver_id`;

const ORDER_SELECT = orderSelect('orders');

/** An order's lines as one JSON array (`[]` for none), read from `source` (a table or CTE). */
const itemsJson = (source: string) => `COALESCE(
  (SELECT json_agg(json_build_object('id', i.id, 'order_id', i.order_id,
     'menu_item_id', i.menu_item_id, 'name', i.name, 'quantity', i.quantity,
     'unit_price_cents', i.unit_price_cents) ORDER BY i.name, i.id)
   FROM ${source}), '[]')`;

export type OrderSummaryDto = Omit<Order, 'items' | 'driver' | 'eta'>;

export function toOrderSummary(r: OrderRow): OrderSummaryDto {
  return {
    id: r.id,
    customerId: r.customer_id,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
    driverId: r.driver_id,
    status: r.status,
    deliveryAddress: r.delivery_address,
    deliveryLat: r.delivery_lat,
    deliveryLng: r.delivery_lng,
    notes: r.notes,
    subtotalCents: r.subtotal_cents,
    deliveryFeeCents: r.delivery_fee_cents,
    tipCents: r.tip_cents,
    totalCents: r.total_cents,
    distanceKm: Math.round(r.distance_km * 1000) / 1000,
    cancelReason: r.cancel_reason,
    dispatchStatus: r.dispatch_status,
    needsAttention: r.needs_attention_at !== null,
    timestamps: {
      createdAt: r.created_at.toISOString(),
      confirmedAt: iso(r.confirmed_at),
      preparingAt: iso(r.preparing_at),
      readyAt: iso(r.ready_at),
      assignedAt: iso(r.assigned_at),
      pickedUpAt: iso(r.picked_up_at),
      deliveredAt: iso(r.delivered_at),
      cancelledAt: iso(r.cancelled_at),
    },
  };
}

export function toOrder(r: OrderRow, items: ItemRow[]): Order {
  return {
    ...toOrderSummary(r),
    items: items.map((i) => ({
      id: i.id,
      menuItemId: i.menu_item_id,
      name: i.name,
      quantity: i.quantity,
      unitPriceCents: i.unit_price_cents,
      lineTotalCents: i.quantity * i.unit_price_cents,
    })),
    driver: r.driver_id
      ? {
          id: r.driver_id,
          name: r.driver_name ?? '',
          vehicleType: r.driver_vehicle ?? 'car',
          rating: r.driver_rating,
          lat: r.driver_lat,
          lng: r.driver_lng,
        }
      : null,
    eta: null,
  };
}

export interface NewOrder {
  customerId: string;
  merchantId: string;
  deliveryAddress: string;
  deliveryLat: number;
  deliveryLng: number;
  notes: string | null;
  distanceKm: number;
  subtotalCents: number;
  deliveryFeeCents: number;
  tipCents: number;
  totalCents: number;
  items: Array<{ menuItemId: string; name: string; quantity: number; unitPriceCents: number }>;
}

/**
 * Inserts the order, its lines and its first audit row ("created, pending") in one statement,
 * and answers the new order both as `findOrderRow` and as `findOrder` read it: one round trip
 * instead of five while the transaction holds its connection.
 */
export async function insertOrder(
  db: Queryable,
  o: NewOrder,
): Promise<{ row: OrderRow; order: Order }> {
  const { rows } = await db.query<OrderRow & { items: ItemRow[] }>(
    `WITH o AS (
       INSERT INTO orders (customer_id, merchant_id, delivery_address, delivery_lat, delivery_lng, notes,
         distance_km, subtotal_cents, delivery_fee_cents, tip_cents, total_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *
     ), items AS (
       INSERT INTO order_items (order_id, order_created_at, menu_item_id, name, quantity, unit_price_cents)
       SELECT o.id, o.created_at, i.* FROM o, unnest($12::uuid[], $13::text[], $14::int[], $15::int[]) AS i
       RETURNING *
     ), event AS (
       INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role)
       SELECT o.id, NULL::text, 'pending'::text, $1::uuid, 'customer'::text FROM o
     )
     SELECT v.*, ${itemsJson('items i')} AS items FROM (${orderSelect('o')}) v`,
    [
      o.customerId,
      o.merchantId,
      o.deliveryAddress,
      o.deliveryLat,
      o.deliveryLng,
      o.notes,
      o.distanceKm,
      o.subtotalCents,
      o.deliveryFeeCents,
      o.tipCents,
      o.totalCents,
      o.items.map((i) => i.menuItemId),
      o.items.map((i) => i.name),
      o.items.map((i) => i.quantity),
      o.items.map((i) => i.unitPriceCents),
    ],
  );
  const { items, ...row } = rows[0]!;
  return { row, order: toOrder(row, items) };
}

export async function findOrderRow(db: Queryable, id: string): Promise<OrderRow | null> {
  const { rows } = await db.query<OrderRow>(`${ORDER_SELECT} WHERE o.id = $1`, [id]);
  return rows[0] ?? null;
}

/** The order with its lines, in one round trip. */
export async function findOrder(db: Queryable, id: string): Promise<Order | null> {
  const { rows } = await db.query<OrderRow & { items: ItemRow[] }>(
    `SELECT v.*, ${itemsJson('order_items i WHERE i.order_id = v.id AND i.order_created_at = v.created_at')} AS items
     FROM (${ORDER_SELECT} WHERE o.id = $1) v`,
    [id],
  );
  const row = rows[0];
  return row ? toOrder(row, row.items) : null;
}

export interface ListFilter {
  customerId?: string;
  merchantId?: string;
  driverId?: string;
  status?: OrderStatus;
  needsAttention?: boolean;
  /** Created at or after this instant (ISO). */
  createdFrom?: string;
  /** Created strictly before this instant (ISO). */
  createdTo?: string;
  before?: { createdAt: string; id: string };
  limit: number;
}

export async function listOrders(db: Queryable, f: ListFilter): Promise<OrderRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.customerId) add('o.customer_id = ?', f.customerId);
  if (f.merchantId) add('o.merchant_id = ?', f.merchantId);
  if (f.driverId) add('o.driver_id = ?', f.driverId);
  if (f.status) add('o.status = ?', f.status);
  if (f.needsAttention !== undefined)
    where.push(`o.needs_attention_at IS ${f.needsAttention ? 'NOT NULL' : 'NULL'}`);
  if (f.createdFrom) add('o.created_at >= ?::timestamptz', f.createdFrom);
  if (f.createdTo) add('o.created_at < ?::timestamptz', f.createdTo);
  if (f.before) {
    params.push(f.before.createdAt, f.before.id);
    where.push(
      `(o.created_at, o.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
    );
  }
  params.push(f.limit);
  const { rows } = await db.query<OrderRow>(
    `${ORDER_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export interface TransitionUpdate {
  id: string;
  from: OrderStatus;
  to: OrderStatus;
  /** Moves the order only if it belongs to them (the caller's scope). */
  customerId?: string;
  merchantId?: string;
  driverId?: string;
  cancelReason?: string | null;
  cancelledBy?: string | null;
}

/**
 * Compare-and-set: moves the order only if it is still in `from` (and in the caller's scope)
 * and writes the audit row with the move, in one statement. Returns the moved order as
 * `findOrderRow` reads it, or null when it was not in `from` any more (or not the caller's).
 */
export async function compareAndSetStatus(
  db: Queryable,
  u: TransitionUpdate,
  event: { actorId: string | null; actorRole: string; reason: string | null },
): Promise<OrderRow | null> {
  const column = STATUS_TIMESTAMP[u.to];
  const { rows } = await db.query<OrderRow>(
    `WITH moved AS (
       UPDATE orders SET status = $3, ${column} = now(), updated_at = now(),
         cancel_reason = COALESCE($4, cancel_reason), cancelled_by = COALESCE($5, cancelled_by)
       WHERE id = $1 AND status = $2 AND ($9::uuid IS NULL OR customer_id = $9)
         AND ($10::uuid IS NULL OR merchant_id = $10) AND ($11::uuid IS NULL OR driver_id = $11)
       RETURNING *
     ), event AS (
       INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role, reason)
       SELECT id, $2::text, $3::text, $6::uuid, $7::text, $8::text FROM moved
     )
     ${orderSelect('moved')}`,
    [
      u.id,
      u.from,
      u.to,
      u.cancelReason ?? null,
      u.cancelledBy ?? null,
      event.actorId,
      event.actorRole,
      event.reason,
      u.customerId ?? null,
      u.merchantId ?? null,
      u.driverId ?? null,
    ],
  );
  return rows[0] ?? null;
}
