import type { Queryable } from '../db/db.ts';
import type { OfferFacts } from './offers.repository.ts';

/** An order due for a dispatch step, with what its offer shows the driver. */
export interface DueOrder extends OfferFacts {
  id: string;
  merchant_id: string;
  customer_id: string;
  dispatch_status: 'searching' | 'offered';
  dispatch_started_at: Date;
  dispatch_attempts: number;
  needs_attention_at: Date | null;
  /** What the driver earns: the whole delivery fee and the whole tip. */
  earnings_cents: number;
}

const DUE_ORDER_COLUMNS = `o.id, o.merchant_id, o.customer_id, o.dispatch_status,
  o.dispatch_started_at, o.dispatch_attempts, o.needs_attention_at, m.lat AS m_lat, m.lng AS m_lng,
  o.delivery_fee_cents + o.tip_cents AS earnings_cents, m.name AS m_name, m.address AS m_address,
  o.delivery_address, o.delivery_lat, o.delivery_lng, o.distance_km AS order_distance_km`;

/**
 * The order `$1` whose lease is still ours: its `dispatch_next_at` still holds the token `$2`
 * and it is still being dispatched. Locking, releasing and every write of a step test this.
 */
const LEASED = `id = $1 AND dispatch_next_at = $2 AND dispatch_status IN ('searching', 'offered')`;
const LEASE_HELD = `EXISTS (SELECT 1 FROM orders WHERE ${LEASED})`;

/**
 * Leases the next order due for dispatch work until `until`, which is also the lease's token:
 * `dispatch_next_at` holds it while the lease is ours. One statement, so the row is
 * locked only while it runs, and other claimers (of any instance) skip it while it is locked
 * and pass it by once leased. The lease lets the candidates be searched with no lock held;
 * `lockLeasedOrder` then takes the lock for the offer. If the process dies meanwhile, the
 * order is due again when the lease runs out.
 */
export async function leaseDueOrder(
  q: Queryable,
  now: Date,
  until: Date,
): Promise<DueOrder | null> {
  const { rows } = await q.query<DueOrder>(
    `WITH leased AS (
       UPDATE orders o SET dispatch_next_at = $2
       WHERE o.id = (SELECT id FROM orders
                     WHERE dispatch_status IN ('searching', 'offered') AND dispatch_next_at <= $1
                     ORDER BY dispatch_next_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         AND o.dispatch_status IN ('searching', 'offered') AND o.dispatch_next_at <= $1
       RETURNING o.*
     )
     SELECT ${DUE_ORDER_COLUMNS} FROM leased o JOIN merchants m ON m.id = o.merchant_id`,
    [now, until],
  );
  return rows[0] ?? null;
}

/**
 * Locks a leased order for its dispatch step, unless it changed meanwhile: a cancel, a
 * driver's late answer to an expired offer or an admin's reassign moves `dispatch_next_at`
 * or the status, and the lease is void (false; whoever changed it kicked a sweep of its own).
 * The step's writes are sent right behind it, each conditioned on the lease as well, so they
 * are no-ops when it is void.
 */
export async function lockLeasedOrder(
  tx: Queryable,
  id: string,
  leasedUntil: Date,
): Promise<boolean> {
  const { rowCount } = await tx.query(`SELECT 1 FROM orders WHERE ${LEASED} FOR UPDATE`, [
    id,
    leasedUntil,
  ]);
  return rowCount === 1;
}

/** Gives a lease back early (a failed search): the order is due again at once. */
export async function releaseLease(q: Queryable, id: string, leasedUntil: Date, now: Date) {
  await q.query(`UPDATE orders SET dispatch_next_at = $3 WHERE ${LEASED}`, [id, leasedUntil, now]);
}

/**
 * Expires the leased order's pending offer if its time is up and counts the driver's unanswered
 * offer, in one statement; returns the offer and the driver it was for.
 */
export async function expireDueOffer(tx: Queryable, orderId: string, leasedUntil: Date, now: Date) {
  const { rows } = await tx.query<{ id: string; driver_id: string }>(
    `WITH expired AS (
       UPDATE driver_offers SET status = 'expired', responded_at = $3
       WHERE order_id = $1 AND status = 'pending' AND expires_at <= $3 AND ${LEASE_HELD}
       RETURNING id, driver_id
     ), counted AS (
       UPDATE drivers SET offers_received = offers_received + 1
       WHERE id = (SELECT driver_id FROM expired)
     )
     SELECT id, driver_id FROM expired`,
    [orderId, leasedUntil, now],
  );
  return rows[0] ?? null;
}

export async function pendingOfferOf(tx: Queryable, orderId: string) {
  const { rows } = await tx.query<{ id: string; expires_at: Date }>(
    `SELECT id, expires_at FROM driver_offers WHERE order_id = $1 AND status = 'pending'`,
    [orderId],
  );
  return rows[0] ?? null;
}

export interface EligibleDriver {
  id: string;
  rating: number | null;
  offers_received: number;
  offers_accepted: number;
  active_orders: number;
  max_active_orders: number;
}

/**
 * Of the drivers near the store, those who may get this order's offer now: online, under their
 * load limit, not holding another pending offer, never offered this order before.
 *
 * The nearby drivers are fetched by primary key first (a materialised CTE), so the planner
 * cannot start from the index of online drivers instead: its idea of how many are online comes
 * from the last ANALYZE and may be far off (all offline at night, thousands at noon), and
 * scanning every online driver for 100 ids took 8-15 ms a call. The two conditions on offers
 * are two look-ups, each on its own index (an `OR` of them scanned every pending offer).
 *
 * It is planned on every call: the plan PostgreSQL caches for a prepared statement is made
 * once, from what the tables held then. Cached at start-up, while `driver_offers` was empty,
 * it looked for a driver's pending offer by scanning every pending offer (and, with no vacuum
 * yet, every offer that had ever been pending): 10 ms a call and a third of the database's
 * CPU at 35 orders/s, against 0.5 ms planned afresh.
 */
export async function eligibleDrivers(tx: Queryable, orderId: string, ids: string[]) {
  const { rows } = await tx.query<EligibleDriver>(
    `WITH near AS MATERIALIZED (
       SELECT id, status, rating, offers_received, offers_accepted, active_orders, max_active_orders
       FROM drivers WHERE id = ANY($2::uuid[])
     )
     SELECT d.id, d.rating, d.offers_received, d.offers_accepted, d.active_orders, d.max_active_orders
     FROM near d
     WHERE d.status = 'online' AND d.active_orders < d.max_active_orders
       AND NOT EXISTS (SELECT 1 FROM driver_offers p WHERE p.driver_id = d.id AND p.status = 'pending')
       AND NOT EXISTS (SELECT 1 FROM driver_offers o WHERE o.order_id = $1 AND o.driver_id = d.id)`,
    [orderId, ids],
    { prepare: false },
  );
  return rows;
}

export interface NewOffer {
  /** Made by the caller, so statements sent in the same flight can refer to the offer. */
  id: string;
  orderId: string;
  /** The lease the offer is made under: no offer once it is void. */
  leasedUntil: Date;
  driverId: string;
  score: number;
  distanceKm: number;
  earningsCents: number;
  offeredAt: Date;
  expiresAt: Date;
}

/**
 * Inserts a pending offer while the order's lease holds, unless a partial unique index says the
 * order or driver has one, and in the same statement marks the order offered until the offer
 * expires. Answers whether the offer was made.
 */
export async function insertOffer(tx: Queryable, o: NewOffer): Promise<boolean> {
  const { rowCount } = await tx.query(
    `WITH offer AS (
       INSERT INTO driver_offers (order_id, driver_id, score, distance_km, earnings_cents, offered_at, expires_at, id)
       SELECT $1::uuid, $3::uuid, $4::float8, $5::float8, $6::int, $7::timestamptz, $8::timestamptz, $9::uuid
       WHERE ${LEASE_HELD}
       ON CONFLICT DO NOTHING RETURNING id, order_id
     ), marked AS (
       UPDATE orders SET dispatch_status = 'offered', dispatch_next_at = $8, dispatch_attempts = 0,
         offers_count = offers_count + 1, updated_at = now()
       WHERE id = (SELECT order_id FROM offer)
     )
     SELECT id FROM offer`,
    [
      o.orderId,
      o.leasedUntil,
      o.driverId,
      o.score,
      o.distanceKm,
      o.earningsCents,
      o.offeredAt,
      o.expiresAt,
      o.id,
    ],
  );
  return rowCount === 1;
}

export async function setDispatchState(
  tx: Queryable,
  orderId: string,
  state: { status: 'searching' | 'offered'; nextAt: Date; attempts?: number },
) {
  await tx.query(
    `UPDATE orders SET dispatch_status = $2, dispatch_next_at = $3,
       dispatch_attempts = COALESCE($4, dispatch_attempts), updated_at = now()
     WHERE id = $1`,
    [orderId, state.status, state.nextAt, state.attempts ?? null],
  );
}

export async function flagOrder(tx: Queryable, orderId: string, reason: string, now: Date) {
  const { rowCount } = await tx.query(
    `UPDATE orders SET needs_attention_at = $3, attention_reason = $2
     WHERE id = $1 AND needs_attention_at IS NULL`,
    [orderId, reason, now],
  );
  return rowCount === 1;
}

export interface OfferRow {
  id: string;
  order_id: string;
  driver_id: string;
  status: string;
  expires_at: Date;
  offered_at: Date;
}

/**
 * Every transaction that touches an order and its offers locks the order row first, then the
 * offers (the sweeper, cancel and reassign do too), so two of them can never deadlock.
 */
export async function lockOrderOfOffer(tx: Queryable, offerId: string) {
  await tx.query(
    `SELECT o.id FROM orders o WHERE o.id = (SELECT order_id FROM driver_offers WHERE id = $1)
     FOR UPDATE`,
    [offerId],
  );
}

export async function lockOffer(tx: Queryable, offerId: string, driverId: string) {
  const { rows } = await tx.query<OfferRow>(
    `SELECT id, order_id, driver_id, status, expires_at, offered_at FROM driver_offers
     WHERE id = $1 AND driver_id = $2 FOR UPDATE`,
    [offerId, driverId],
  );
  return rows[0] ?? null;
}

export async function closeOffer(tx: Queryable, offerId: string, status: string, now: Date) {
  await tx.query(`UPDATE driver_offers SET status = $2, responded_at = $3 WHERE id = $1`, [
    offerId,
    status,
    now,
  ]);
}

/**
 * The compare-and-set assignment as a CTE named `assigned`, given the placeholders of the order,
 * the driver and the time: it sets the driver only while the order has none and still waits for
 * pickup, and returns the assigned order's id, status, confirmation time and offer count.
 */
const assignedCte = (order: string, driver: string, at: string) => `assigned AS (
       UPDATE orders SET driver_id = ${driver}, assigned_at = ${at}, dispatch_status = 'assigned',
         dispatch_next_at = NULL, needs_attention_at = NULL, attention_reason = NULL, updated_at = now()
       WHERE id = ${order} AND driver_id IS NULL AND status IN ('confirmed', 'preparing', 'ready_for_pickup')
       RETURNING id, status, confirmed_at, offers_count
     )`;

/**
 * Compare-and-set assignment: succeeds only while the order has no driver and is still
 * waiting for pickup. Of any number of racing callers exactly one gets a row back.
 */
export async function assignDriver(tx: Queryable, orderId: string, driverId: string, now: Date) {
  const { rows } = await tx.query<{ id: string; confirmed_at: Date | null; offers_count: number }>(
    `WITH ${assignedCte('$1', '$2', '$3')}, counted AS (
       UPDATE drivers SET active_orders = active_orders + 1, updated_at = now()
       WHERE id = $2 AND EXISTS (SELECT 1 FROM assigned)
     )
     SELECT id, confirmed_at, offers_count FROM assigned`,
    [orderId, driverId, now],
  );
  return rows[0] ?? null;
}

/**
 * A driver's acceptance in one statement: `assignDriver`'s compare-and-set, the offer closed as
 * `accepted` (or `cancelled` when another driver or a cancellation came first), the driver's
 * load and answer counters, and the "driver assigned" audit row. Answers the assignment, or
 * null when it lost.
 */
export async function acceptOffer(
  tx: Queryable,
  a: { offerId: string; orderId: string; driverId: string; now: Date },
) {
  const { rows } = await tx.query<{ id: string; confirmed_at: Date | null; offers_count: number }>(
    `WITH ${assignedCte('$2', '$3', '$4')}, counted AS (
       UPDATE drivers SET active_orders = active_orders + 1, offers_received = offers_received + 1,
         offers_accepted = offers_accepted + 1, updated_at = now()
       WHERE id = $3 AND EXISTS (SELECT 1 FROM assigned)
     ), closed AS (
       UPDATE driver_offers SET responded_at = $4,
         status = CASE WHEN EXISTS (SELECT 1 FROM assigned) THEN 'accepted' ELSE 'cancelled' END
       WHERE id = $1
     ), event AS (
       INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role, reason, data)
       SELECT id, status, status, $3, 'driver', 'driver assigned', jsonb_build_object('driverId', $3::text)
       FROM assigned
     )
     SELECT id, confirmed_at, offers_count FROM assigned`,
    [a.offerId, a.orderId, a.driverId, a.now],
  );
  return rows[0] ?? null;
}

export async function countOfferResponse(tx: Queryable, driverId: string, accepted: boolean) {
  await tx.query(
    `UPDATE drivers SET offers_received = offers_received + 1,
       offers_accepted = offers_accepted + CASE WHEN $2 THEN 1 ELSE 0 END WHERE id = $1`,
    [driverId, accepted],
  );
}

export async function cancelPendingOffers(tx: Queryable, orderId: string, now: Date) {
  const { rows } = await tx.query<{ driver_id: string }>(
    `UPDATE driver_offers SET status = 'cancelled', responded_at = $2
     WHERE order_id = $1 AND status = 'pending' RETURNING driver_id`,
    [orderId, now],
  );
  return rows.map((r) => r.driver_id);
}

export async function releaseDriver(tx: Queryable, driverId: string, delivered: boolean) {
  await tx.query(
    `UPDATE drivers SET active_orders = GREATEST(active_orders - 1, 0),
       total_deliveries = total_deliveries + CASE WHEN $2 THEN 1 ELSE 0 END, updated_at = now()
     WHERE id = $1`,
    [driverId, delivered],
  );
}

/** Orders whose driver went offline long ago while carrying them: flag for reassignment. */
export async function flagAbandonedOrders(tx: Queryable, offlineBefore: Date, now: Date) {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE orders o SET needs_attention_at = $2, attention_reason = 'driver offline'
     FROM drivers d
     WHERE d.id = o.driver_id AND d.status = 'offline' AND d.went_offline_at < $1
       AND o.status IN ('confirmed', 'preparing', 'ready_for_pickup', 'picked_up')
       AND o.needs_attention_at IS NULL
     RETURNING o.id`,
    [offlineBefore, now],
  );
  return rows.map((r) => r.id);
}
