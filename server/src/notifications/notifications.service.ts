import type { Notification, NotificationEvent, NotificationsQuery } from '@delivery/contracts';
import type { Db, Tx } from '../db/db.ts';
import { notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../orders/cursor.ts';
import type { StatusChange, TransitionListener } from '../orders/orders.service.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { messageFor, type Audience } from './messages.ts';
import * as repo from './notifications.repository.ts';

export interface NotifyInput {
  userId: string;
  /** Stable kind for clients, e.g. `order.confirmed`, `offer.new`. */
  type: string;
  title: string;
  body: string;
  orderId?: string | null;
  /** Where the live event goes: `order:<id>`, `merchant:<id>` or `driver:<id>`. */
  channel: string;
  /** Stored and pushed only if this offer exists by then (see `NewNotification`). */
  ifOfferExists?: string;
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;

export function createNotificationsService({
  db,
  publisher,
}: {
  db: Db;
  publisher: ChannelPublisher;
}) {
  /**
   * Stores notifications in `tx` (one statement) and, once `tx` has committed, pushes each live
   * on its `channel`. A rolled-back transaction leaves neither the rows nor the events; one
   * whose `ifOfferExists` did not is neither stored nor pushed (null).
   */
  async function notifyAll(tx: Tx, inputs: NotifyInput[]): Promise<Array<Notification | null>> {
    const rows = await repo.insertNotifications(tx, inputs);
    return rows.map((row, i) => {
      if (!row) return null;
      const input = inputs[i]!;
      const notification = repo.toNotification(row);
      const event: NotificationEvent = { ...notification, userId: input.userId };
      tx.afterCommit(() => publisher.publish(input.channel, 'notification', event));
      return notification;
    });
  }

  const notify = async (tx: Tx, input: NotifyInput): Promise<Notification | null> =>
    (await notifyAll(tx, [input]))[0] ?? null;

  /** Tells the customer, the store's owner and the assigned driver about every status change. */
  const onStatusChange: TransitionListener = async (tx, change: StatusChange) => {
    const { order } = change;
    const parties: Array<[Audience, string | null, string]> = [
      ['customer', order.customer_id, `order:${order.id}`],
      ['merchant', order.merchant_owner_id, `merchant:${order.merchant_id}`],
      ['driver', order.driver_id, `driver:${order.driver_id}`],
    ];
    const inputs: NotifyInput[] = [];
    for (const [audience, userId, channel] of parties) {
      if (!userId) continue;
      const { title, body } = messageFor(audience, change);
      inputs.push({ userId, type: `order.${change.to}`, title, body, orderId: order.id, channel });
    }
    await notifyAll(tx, inputs);
  };

  return {
    notify,
    onStatusChange,

    async list(userId: string, q: NotificationsQuery) {
      const rows = await repo.listNotifications(db, {
        userId,
        unreadOnly: q.unread ?? false,
        before: decodeCursor(q.cursor),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(repo.toNotification),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null,
        unread: await repo.countUnread(db, userId),
      };
    },

    async markRead(userId: string, id: string): Promise<Notification> {
      const row = await repo.markRead(db, userId, id);
      if (!row) throw notFound('Notification');
      return repo.toNotification(row);
    },
  };
}
