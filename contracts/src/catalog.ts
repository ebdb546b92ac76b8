import { z } from 'zod';
import { Cents, IsoDateTime, Latitude, Longitude, QueryNumber } from './common.ts';

export const MerchantCategory = z.enum(['restaurant', 'grocery', 'pharmacy', 'bakery', 'cafe']);

export const MerchantsQuery = z
  .object({
    lat: QueryNumber.pipe(Latitude).optional(),
    lng: QueryNumber.pipe(Longitude).optional(),
    radiusKm: QueryNumber.pipe(z.number().positive().max(100)).optional(),
    category: z.string().trim().min(1).max(40).optional(),
    q: z.string().trim().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .refine((q) => (q.lat === undefined) === (q.lng === undefined), {
    message: 'lat and lng go together',
    path: ['lat'],
  });
export type MerchantsQuery = z.infer<typeof MerchantsQuery>;

export const Merchant = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  address: z.string(),
  lat: z.number(),
  lng: z.number(),
  category: z.string(),
  avgPrepTimeMinutes: z.number().int(),
  deliveryRadiusKm: z.number(),
  rating: z.number().nullable(),
  isOpen: z.boolean(),
  distanceKm: z.number().nullable(),
});
export type Merchant = z.infer<typeof Merchant>;

export const MerchantList = z.object({
  items: z.array(Merchant),
  nextCursor: z.string().nullable(),
});
export const MerchantResponse = z.object({ merchant: Merchant });

export const MenuItem = z.object({
  id: z.string(),
  merchantId: z.string(),
  name: z.string(),
  description: z.string(),
  priceCents: Cents,
  category: z.string(),
  isAvailable: z.boolean(),
  updatedAt: IsoDateTime,
});
export type MenuItem = z.infer<typeof MenuItem>;

export const MenuResponse = z.object({ items: z.array(MenuItem) });

export const MenuItemCreateBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().trim().max(1000).default(''),
    priceCents: z.number().int().min(1).max(1_000_000),
    category: z.string().trim().min(1).max(60).default('Mains'),
    isAvailable: z.boolean().default(true),
  })
  .strict();
export type MenuItemCreateBody = z.infer<typeof MenuItemCreateBody>;

export const MenuItemPatchBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().trim().max(1000),
    priceCents: z.number().int().min(1).max(1_000_000),
    category: z.string().trim().min(1).max(60),
    isAvailable: z.boolean(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type MenuItemPatchBody = z.infer<typeof MenuItemPatchBody>;

export const MenuItemResponse = z.object({ item: MenuItem });

export const StorePatchBody = z
  .object({
    isOpen: z.boolean(),
    avgPrepTimeMinutes: z.number().int().min(1).max(180),
    deliveryRadiusKm: z.number().positive().max(50),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type StorePatchBody = z.infer<typeof StorePatchBody>;

export const StoreResponse = z.object({ merchant: Merchant });

export { Latitude, Longitude };
