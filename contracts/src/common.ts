import { z } from 'zod';

export const Role = z.enum(['customer', 'driver', 'merchant', 'admin']);
export type Role = z.infer<typeof Role>;

export const Id = z.string().min(1).max(64);
export const UuidParam = z.object({ id: z.uuid() });

/**
 * Below 1e-9° (0.1 mm) a coordinate is 0: PostgreSQL raises "value out of range: underflow"
 * when it squares a subnormal difference, so such values never reach the distance SQL.
 */
const flushTiny = (deg: number) => (Math.abs(deg) < 1e-9 ? 0 : deg);
export const Latitude = z.number().finite().min(-90).max(90).transform(flushTiny);
export const Longitude = z.number().finite().min(-180).max(180).transform(flushTiny);
export const Cents = z.number().int().min(0);
export const IsoDateTime = z.string().datetime();

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Query-string numbers arrive as text. */
export const QueryNumber = z.coerce.number().finite();
