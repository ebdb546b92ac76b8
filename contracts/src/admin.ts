import { z } from 'zod';
import { IsoDateTime } from './common.ts';
import { OrderStatus } from './orders.ts';

export const AdminOrdersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  status: OrderStatus.optional(),
  merchantId: z.uuid().optional(),
  driverId: z.uuid().optional(),
  needsAttention: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  createdFrom: IsoDateTime.optional().describe('created at or after (inclusive)'),
  createdTo: IsoDateTime.optional().describe('created before (exclusive)'),
});
export type AdminOrdersQuery = z.infer<typeof AdminOrdersQuery>;

export const AdminDriversQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: z.string().max(200).optional(),
  status: z.enum(['online', 'offline']).optional(),
});
export type AdminDriversQuery = z.infer<typeof AdminDriversQuery>;

export const AdminDriver = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  vehicleType: z.string(),
  status: z.enum(['online', 'offline']),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
  locationUpdatedAt: IsoDateTime.nullable(),
  activeOrders: z.number().int(),
  rating: z.number().nullable(),
  acceptanceRate: z.number().nullable(),
  totalDeliveries: z.number().int(),
});
export const AdminDriverList = z.object({
  items: z.array(AdminDriver),
  nextCursor: z.string().nullable(),
});

const Percentiles = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
});

export const AdminStats = z.object({
  ordersByStatus: z.record(z.string(), z.number().int()),
  ordersToday: z.number().int(),
  onlineDrivers: z.number().int(),
  activeOrders: z.number().int(),
  needsAttention: z.number().int(),
  matchSeconds: Percentiles,
  deliveryMinutes: Percentiles,
  acceptanceRate: z.number().nullable(),
  offersPerAssignment: z.number().nullable(),
});

export const ReassignBody = z
  .object({ driverId: z.uuid().optional(), reason: z.string().trim().max(300).optional() })
  .strict()
  .nullish();
export const AdminCancelBody = z
  .object({ reason: z.string().trim().min(1).max(300).optional() })
  .strict()
  .nullish();
