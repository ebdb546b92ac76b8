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

export async function insertNotification(
  db: Queryable,
  n: NewNotification,
): Promise<NotificationRow> {
  // Millisecond precision keeps the paging cursor exact; the clock (not the transaction start)
  // keeps several notifications of one transaction in the order they were made.
  const { rows } = await db.query<NotificationRow>(
    `INSERT INTO notifications (user_id, type, title, body, order_id, created_at)
     VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', clock_timestamp()))
     RETURNING ${COLUMNS}`,
    [n.userId, n.type, n.title, n.body, n.orderId ?? null],
  );
  return rows[0]!;
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

export async function findMerchantOwner(db: Queryable, merchantId: string): Promise<string | null> {
  const { rows } = await db.query<{ owner_id: string | null }>(
    'SELECT owner_id FROM merchants WHERE id = $1',
    [merchantId],
  );
  return rows[0]?.owner_id ?? null;
}
