import type { OrderStatus, Rating } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

export type RateeKind = Rating['rateeKind'];

export interface RatingRow {
  id: string;
  order_id: string;
  ratee_kind: RateeKind;
  ratee_id: string;
  stars: number;
  comment: string | null;
  created_at: Date;
}

export interface NewRating {
  orderId: string;
  raterId: string;
  rateeKind: RateeKind;
  rateeId: string;
  stars: number;
  comment: string | null;
}

export interface RateableOrder {
  id: string;
  status: OrderStatus;
  customer_id: string;
  merchant_id: string;
  driver_id: string | null;
}

/** Where each kind of ratee keeps its running average. */
const AVERAGE_TABLE: Record<RateeKind, string> = {
  driver: 'drivers',
  merchant: 'merchants',
  customer: 'users',
};

const COLUMNS = 'id, order_id, ratee_kind, ratee_id, stars, comment, created_at';

export function toRating(r: RatingRow): Rating {
  return {
    id: r.id,
    orderId: r.order_id,
    rateeKind: r.ratee_kind,
    rateeId: r.ratee_id,
    stars: r.stars,
    comment: r.comment,
    createdAt: r.created_at.toISOString(),
  };
}

export async function findRateableOrder(db: Queryable, id: string): Promise<RateableOrder | null> {
  const { rows } = await db.query<RateableOrder>(
    'SELECT id, status, customer_id, merchant_id, driver_id FROM orders WHERE id = $1',
    [id],
  );
  return rows[0] ?? null;
}

/** Inserts the rating unless this order already has one in this direction (then null). */
export async function insertRating(db: Queryable, r: NewRating): Promise<RatingRow | null> {
  const { rows } = await db.query<RatingRow>(
    `INSERT INTO ratings (order_id, rater_id, ratee_kind, ratee_id, stars, comment)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (order_id, ratee_kind) DO NOTHING RETURNING ${COLUMNS}`,
    [r.orderId, r.raterId, r.rateeKind, r.rateeId, r.stars, r.comment],
  );
  return rows[0] ?? null;
}

/** Folds one more rating into the ratee's average; the row lock serialises concurrent folds. */
export async function addToAverage(
  db: Queryable,
  kind: RateeKind,
  id: string,
  stars: number,
): Promise<void> {
  await db.query(
    `UPDATE ${AVERAGE_TABLE[kind]}
     SET rating = ((COALESCE(rating, 0)::float8 * rating_count + $2) / (rating_count + 1))::real,
         rating_count = rating_count + 1
     WHERE id = $1`,
    [id, stars],
  );
}

export async function listRatings(db: Queryable, orderId: string): Promise<RatingRow[]> {
  const { rows } = await db.query<RatingRow>(
    `SELECT ${COLUMNS} FROM ratings WHERE order_id = $1 ORDER BY created_at, ratee_kind`,
    [orderId],
  );
  return rows;
}
