import { randomUUID } from 'node:crypto';
import type { Notification } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

export interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  order_id: string | null;
  read_at: Date | null;
  created_at: Date;
}

export interface NewNotification {
  userId: string;
  type: string;
  title: string;
  body: string;
  orderId?: string | null;
  /**
   * Stored only if this offer exists when the insert runs: the notification of an offer goes
   * out in the same flight as the offer's insert, which may have been skipped.
   */
  ifOfferExists?: string;
}

const COLUMNS = 'id, user_id, type, title, body, order_id, read_at, created_at';

export function toNotification(r: NotificationRow): Notification {
  return {
    id: r.id,
    type: r.type,
    title: r.title,
    body: r.body,
    orderId: r.order_id,
    readAt: r.read_at ? r.read_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
  };
}

/** The types of a row's parameters in `insertNotifications`' VALUES list. */
const ROW_TYPES = ['uuid', 'uuid', 'text', 'text', 'text', 'uuid', 'uuid'];

/**
 * Stores several notifications in one statement and returns them in the order given, null for
 * one whose `ifOfferExists` did not (their ids are made here, so each row is found again
 * whatever order the insert returns).
 * Millisecond precision keeps the paging cursor exact; the clock (not the transaction start)
 * keeps the notifications of one transaction in the order they were made.
 *
 * The rows are a VALUES list of plain parameters, one statement per number of rows (callers
 * give one to three). Passed as arrays through `unnest`, PostgreSQL planned the insert afresh
 * on every call (0.3 ms, the most planned statement of an orders run): a cached generic plan
 * cannot know an array's length, so it always looks dearer than a custom one.
 */
export async function insertNotifications(
  db: Queryable,
  list: NewNotification[],
): Promise<Array<NotificationRow | null>> {
  if (list.length === 0) return [];
  const ids = list.map(() => randomUUID());
  const params: unknown[] = [];
  const tuples = list.map((n, i) => {
    const values = [ids[i], n.userId, n.type, n.title, n.body, n.orderId, n.ifOfferExists];
    const refs = values.map((v, k) => `$${params.push(v ?? null)}::${ROW_TYPES[k]}`);
    return `(${refs.join(', ')}, ${i})`;
  });
  const { rows } = await db.query<NotificationRow>(
    `INSERT INTO notifications (id, user_id, type, title, body, order_id, created_at)
     SELECT id, user_id, type, title, body, order_id, date_trunc('milliseconds', clock_timestamp())
     FROM (VALUES ${tuples.join(', ')}) AS t(id, user_id, type, title, body, order_id, offer_id, n)
     WHERE t.offer_id IS NULL OR EXISTS (SELECT 1 FROM driver_offers f WHERE f.id = t.offer_id)
     ORDER BY n
     RETURNING ${COLUMNS}`,
    params,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

export interface NotificationFilter {
  userId: string;
  unreadOnly: boolean;
  before?: { createdAt: string; id: string };
  limit: number;
}

export async function listNotifications(
  db: Queryable,
  f: NotificationFilter,
): Promise<NotificationRow[]> {
  const params: unknown[] = [f.userId, f.limit];
  const where = ['user_id = $1'];
  if (f.unreadOnly) where.push('read_at IS NULL');
  if (f.before) {
    params.push(f.before.createdAt, f.before.id);
    where.push('(created_at, id) < ($3::timestamptz, $4::uuid)');
  }
  const { rows } = await db.query<NotificationRow>(
    `SELECT ${COLUMNS} FROM notifications WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, id DESC LIMIT $2`,
    params,
  );
  return rows;
}

export async function countUnread(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL',
    [userId],
  );
  return rows[0]!.n;
}

/** Marks one of the user's notifications read; a second call keeps the first time. */
export async function markRead(
  db: Queryable,
  userId: string,
  id: string,
): Promise<NotificationRow | null> {
  const { rows } = await db.query<NotificationRow>(
    `UPDATE notifications SET read_at = COALESCE(read_at, now())
     WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    [id, userId],
  );
  return rows[0] ?? null;
}
