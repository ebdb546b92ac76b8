import { z } from 'zod';
import { Cents, IsoDateTime, Latitude, Longitude } from './common.ts';

export const GoOnlineBody = z.object({ lat: Latitude, lng: Longitude }).strict();
export type GoOnlineBody = z.infer<typeof GoOnlineBody>;

/** One position report; `recordedAt` defaults to the time the server receives it. */
export const LocationBody = z
  .object({
    lat: Latitude,
    lng: Longitude,
    heading: z.number().finite().min(0).max(360).optional(),
    speedMps: z.number().finite().min(0).max(100).optional(),
    accuracyM: z.number().finite().min(0).max(10_000).optional(),
    recordedAt: IsoDateTime.optional(),
  })
  .strict();
export type LocationBody = z.infer<typeof LocationBody>;

export const LocationAccepted = z.object({ accepted: z.boolean(), reason: z.string().optional() });

export const DriverStatus = z.object({
  id: z.string(),
  status: z.enum(['online', 'offline']),
  vehicleType: z.string(),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
  activeOrders: z.number().int(),
});
export const DriverStatusResponse = z.object({ driver: DriverStatus });

export const Offer = z.object({
  id: z.string(),
  orderId: z.string(),
  status: z.enum(['pending', 'accepted', 'rejected', 'expired', 'cancelled']),
  expiresAt: IsoDateTime,
  offeredAt: IsoDateTime,
  distanceKm: z.number(),
  earningsCents: Cents,
  pickup: z.object({ name: z.string(), address: z.string(), lat: z.number(), lng: z.number() }),
  dropoff: z.object({ address: z.string(), lat: z.number(), lng: z.number() }),
  deliveryDistanceKm: z.number(),
});
export type Offer = z.infer<typeof Offer>;

export const OfferResponse = z.object({ offer: Offer.nullable() });

export const CustomerRatingBody = z
  .object({
    customerStars: z.number().int().min(1).max(5),
    comment: z.string().trim().max(500).optional(),
  })
  .strict();

export const EarningsResponse = z.object({
  totalCents: Cents,
  days: z.array(z.object({ day: z.string(), deliveries: z.number().int(), earningsCents: Cents })),
  orders: z.array(
    z.object({
      orderId: z.string(),
      deliveredAt: IsoDateTime,
      earningsCents: Cents,
      merchantName: z.string(),
    }),
  ),
});
