import { z } from 'zod';
import { Cents, IsoDateTime, Latitude, Longitude } from './common.ts';

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'preparing',
  'ready_for_pickup',
  'picked_up',
  'delivered',
  'cancelled',
] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const OrderItemInput = z
  .object({ menuItemId: z.uuid(), quantity: z.number().int().min(1).max(50) })
  .strict();

export const CreateOrderBody = z
  .object({
    merchantId: z.uuid(),
    items: z.array(OrderItemInput).min(1).max(50),
    deliveryAddress: z.string().trim().min(3).max(300),
    deliveryLat: Latitude,
    deliveryLng: Longitude,
    tipCents: z.number().int().min(0).max(100_000).default(0),
    notes: z.string().trim().max(500).optional(),
  })
  .strict();
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

export const IdempotencyHeaders = z.object({
  'x-idempotency-key': z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9_\-:.]+$/, 'letters, digits and - _ : . only'),
});

export const OrderItem = z.object({
  id: z.string(),
  menuItemId: z.string(),
  name: z.string(),
  quantity: z.number().int(),
  unitPriceCents: Cents,
  lineTotalCents: Cents,
});

export const DriverSummary = z.object({
  id: z.string(),
  name: z.string(),
  vehicleType: z.string(),
  rating: z.number().nullable(),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
});

/** Predicted delivery: minutes from now and the clock time it lands on. */
export const Eta = z.object({
  minutes: z.number(),
  at: IsoDateTime,
});

export const OrderTimestamps = z.object({
  createdAt: IsoDateTime,
  confirmedAt: IsoDateTime.nullable(),
  preparingAt: IsoDateTime.nullable(),
  readyAt: IsoDateTime.nullable(),
  assignedAt: IsoDateTime.nullable(),
  pickedUpAt: IsoDateTime.nullable(),
  deliveredAt: IsoDateTime.nullable(),
  cancelledAt: IsoDateTime.nullable(),
});

export const Order = z.object({
  id: z.string(),
  customerId: z.string(),
  merchantId: z.string(),
  merchantName: z.string(),
  driverId: z.string().nullable(),
  status: OrderStatus,
  deliveryAddress: z.string(),
  deliveryLat: z.number(),
  deliveryLng: z.number(),
  notes: z.string().nullable(),
  subtotalCents: Cents,
  deliveryFeeCents: Cents,
  tipCents: Cents,
  totalCents: Cents,
  distanceKm: z.number(),
  cancelReason: z.string().nullable(),
  dispatchStatus: z.enum(['idle', 'searching', 'offered', 'assigned', 'stopped']),
  needsAttention: z.boolean(),
  items: z.array(OrderItem),
  timestamps: OrderTimestamps,
  driver: DriverSummary.nullable(),
  eta: Eta.nullable(),
});
export type Order = z.infer<typeof Order>;

export const OrderResponse = z.object({ order: Order });

export const OrderSummary = Order.omit({ items: true, driver: true, eta: true });
export const OrderList = z.object({
  items: z.array(OrderSummary),
  nextCursor: z.string().nullable(),
});

export const OrdersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: OrderStatus.optional(),
});
export type OrdersQuery = z.infer<typeof OrdersQuery>;

/** An optional `{reason}`: clients may send no body at all. */
export const ReasonBody = z
  .object({ reason: z.string().trim().min(1).max(300).optional() })
  .strict()
  .nullish();
