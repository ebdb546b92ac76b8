import type { CustomerRatingBody, Rating, RatingBody } from '@delivery/contracts';
import type { z } from 'zod';
import type { Session } from '../auth/auth.service.ts';
import type { Db, Tx } from '../db/db.ts';
import { DomainError, notFound } from '../errors.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import * as repo from './ratings.repository.ts';

interface Entry {
  kind: repo.RateeKind;
  rateeId: string;
  stars: number;
}

export type RatingsService = ReturnType<typeof createRatingsService>;

export function createRatingsService({ db, orders }: { db: Db; orders: OrdersService }) {
  /** The order if `isParticipant` holds for it and it was delivered; 404 / 409 otherwise. */
  async function deliveredOrder(
    tx: Tx,
    orderId: string,
    isParticipant: (o: repo.RateableOrder) => boolean,
  ) {
    const order = await repo.findRateableOrder(tx, orderId);
    if (!order || !isParticipant(order)) throw notFound('Order');
    if (order.status !== 'delivered') {
      throw new DomainError('NOT_DELIVERED', `Order is ${order.status}; rate it once delivered`, {
        currentStatus: order.status,
      });
    }
    return order;
  }

  /** One row per direction; the unique (order, ratee kind) turns a repeat into a rollback. */
  async function record(
    tx: Tx,
    orderId: string,
    raterId: string,
    entries: Entry[],
    comment: string | undefined,
  ): Promise<Rating[]> {
    const ratings: Rating[] = [];
    for (const e of entries) {
      const row = await repo.insertRating(tx, {
        orderId,
        raterId,
        rateeKind: e.kind,
        rateeId: e.rateeId,
        stars: e.stars,
        comment: comment || null,
      });
      if (!row) {
        throw new DomainError('ALREADY_RATED', `This order's ${e.kind} was already rated`, {
          rateeKind: e.kind,
        });
      }
      await repo.addToAverage(tx, e.kind, e.rateeId, e.stars);
      ratings.push(repo.toRating(row));
    }
    return ratings;
  }

  return {
    /** The customer rates the driver, the store or both, in one all-or-nothing step. */
    rateByCustomer: (customerId: string, orderId: string, body: RatingBody) =>
      db.transaction(async (tx) => {
        const order = await deliveredOrder(tx, orderId, (o) => o.customer_id === customerId);
        const entries: Entry[] = [];
        if (body.driverStars !== undefined) {
          if (!order.driver_id)
            throw new DomainError('NOTHING_TO_RATE', 'This order had no driver to rate');
          entries.push({ kind: 'driver', rateeId: order.driver_id, stars: body.driverStars });
        }
        if (body.merchantStars !== undefined)
          entries.push({ kind: 'merchant', rateeId: order.merchant_id, stars: body.merchantStars });
        return record(tx, order.id, customerId, entries, body.comment);
      }),

    /** The driver who delivered the order rates its customer. */
    rateByDriver: (driverId: string, orderId: string, body: z.infer<typeof CustomerRatingBody>) =>
      db.transaction(async (tx) => {
        const order = await deliveredOrder(tx, orderId, (o) => o.driver_id === driverId);
        const entry = {
          kind: 'customer' as const,
          rateeId: order.customer_id,
          stars: body.customerStars,
        };
        return record(tx, order.id, driverId, [entry], body.comment);
      }),

    /** An order's ratings, for whoever may see the order. */
    async list(session: Session, orderId: string): Promise<Rating[]> {
      await orders.get(session, orderId);
      return (await repo.listRatings(db, orderId)).map(repo.toRating);
    },
  };
}
