import { ORDER_STATUSES, type OrderStatus } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';
import { ACTIVE_STATUSES } from '../orders/order-state.ts';

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
}

/** The percentiles of `expr` over the orders matching `where`, created or finished in 24 h. */
async function percentiles(db: Queryable, expr: string, where: string): Promise<Percentiles> {
  const { rows } = await db.query<Percentiles>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ${expr}) AS p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${expr}) AS p90,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ${expr}) AS p95
     FROM orders WHERE ${where}`,
  );
  return rows[0]!;
}

export async function ordersByStatus(db: Queryable): Promise<Record<OrderStatus, number>> {
  const { rows } = await db.query<{ status: OrderStatus; n: number }>(
    'SELECT status, count(*)::int AS n FROM orders GROUP BY status',
  );
  const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<
    OrderStatus,
    number
  >;
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

export interface Counters {
  ordersToday: number;
  needsAttention: number;
  onlineDrivers: number;
  acceptanceRate: number | null;
  offersPerAssignment: number | null;
}

export async function counters(db: Queryable): Promise<Counters> {
  const { rows } = await db.query<Counters>(
    `SELECT
       (SELECT count(*)::int FROM orders
         WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
         AS "ordersToday",
       (SELECT count(*)::int FROM orders
         WHERE needs_attention_at IS NOT NULL AND status = ANY($1::text[])) AS "needsAttention",
       (SELECT count(*)::int FROM drivers WHERE status = 'online') AS "onlineDrivers",
       (SELECT sum(offers_accepted)::float8 / NULLIF(sum(offers_received), 0) FROM drivers)
         AS "acceptanceRate",
       (SELECT avg(offers_count)::float8 FROM orders
         WHERE assigned_at >= now() - interval '24 hours') AS "offersPerAssignment"`,
    [ACTIVE_STATUSES],
  );
  return rows[0]!;
}

/** Confirmation to assignment, in seconds, for orders assigned in the last 24 h. */
export const matchSeconds = (db: Queryable) =>
  percentiles(
    db,
    'extract(epoch FROM assigned_at - confirmed_at)::float8',
    `assigned_at >= now() - interval '24 hours' AND confirmed_at IS NOT NULL`,
  );

/** Placement to delivery, in minutes, for orders delivered in the last 24 h. */
export const deliveryMinutes = (db: Queryable) =>
  percentiles(
    db,
    'extract(epoch FROM delivered_at - created_at)::float8 / 60',
    `delivered_at >= now() - interval '24 hours'`,
  );
