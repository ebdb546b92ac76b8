import { z } from 'zod';
import { IsoDateTime, PageQuery } from './common.ts';

export const Notification = z.object({
  id: z.string(),
  type: z.string(),
  title: z.string(),
  body: z.string(),
  orderId: z.string().nullable(),
  readAt: IsoDateTime.nullable(),
  createdAt: IsoDateTime,
});
export type Notification = z.infer<typeof Notification>;

export const NotificationList = z.object({
  items: z.array(Notification),
  nextCursor: z.string().nullable(),
  unread: z.number().int(),
});

export const NotificationResponse = z.object({ notification: Notification });

/** The live `notification` event: the stored notification and whom it is for. */
export const NotificationEvent = Notification.extend({ userId: z.string() });
export type NotificationEvent = z.infer<typeof NotificationEvent>;

export const NotificationsQuery = PageQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});
export type NotificationsQuery = z.infer<typeof NotificationsQuery>;

export const RatingBody = z
  .object({
    driverStars: z.number().int().min(1).max(5).optional(),
    merchantStars: z.number().int().min(1).max(5).optional(),
    comment: z.string().trim().max(500).optional(),
  })
  .strict()
  .refine((b) => b.driverStars !== undefined || b.merchantStars !== undefined, {
    message: 'rate the driver, the merchant or both',
  });
export type RatingBody = z.infer<typeof RatingBody>;

export const Rating = z.object({
  id: z.string(),
  orderId: z.string(),
  rateeKind: z.enum(['driver', 'merchant', 'customer']),
  rateeId: z.string(),
  stars: z.number().int(),
  comment: z.string().nullable(),
  createdAt: IsoDateTime,
});
export type Rating = z.infer<typeof Rating>;
export const RatingsResponse = z.object({ ratings: z.array(Rating) });
