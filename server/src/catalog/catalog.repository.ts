import type {
  Merchant,
  MenuItem,
  MenuItemCreateBody,
  MenuItemPatchBody,
  StorePatchBody,
} from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

export interface MerchantRow {
  id: string;
  owner_id: string | null;
  name: string;
  description: string;
  address: string;
  lat: number;
  lng: number;
  category: string;
  avg_prep_time_minutes: number;
  delivery_radius_km: number;
  rating: number | null;
  is_open: boolean;
  distance_km: number | null;
}

export function toMerchant(r: MerchantRow): Merchant {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    address: r.address,
    lat: r.lat,
    lng: r.lng,
    category: r.category,
    avgPrepTimeMinutes: r.avg_prep_time_minutes,
    deliveryRadiusKm: r.delivery_radius_km,
    rating: r.rating === null ? null : Math.round(r.rating * 100) / 100,
    isOpen: r.is_open,
    distanceKm: r.distance_km === null ? null : Math.round(r.distance_km * 1000) / 1000,
  };
}

interface MenuItemRow {
  id: string;
  merchant_id: string;
  name: string;
  description: string;
  price_cents: number;
  category: string;
  is_available: boolean;
  updated_at: Date;
}

export function toMenuItem(r: MenuItemRow): MenuItem {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    name: r.name,
    description: r.description,
    priceCents: r.price_cents,
    category: r.category,
    isAvailable: r.is_available,
    updatedAt: r.updated_at.toISOString(),
  };
}

const MERCHANT_COLUMNS = `id, owner_id, name, description, address, lat, lng, category,
  avg_prep_time_minutes, delivery_radius_km, rating, is_open`;

export interface NearbyFilter {
  near?: { lat: number; lng: number };
  radiusKm?: number;
  category?: string;
  q?: string;
  limit: number;
}

export async function searchMerchants(db: Queryable, f: NearbyFilter): Promise<MerchantRow[]> {
  const params: unknown[] = [f.near?.lat ?? null, f.near?.lng ?? null];
  const where: string[] = [];
  if (f.near && f.radiusKm !== undefined) {
    params.push(f.radiusKm);
    where.push(`haversine_km($1, $2, lat, lng) <= $${params.length}`);
  }
  if (f.category) {
    params.push(f.category);
    where.push(`lower(category) = lower($${params.length})`);
  }
  if (f.q) {
    params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const p = `$${params.length}`;
    where.push(`(name ILIKE ${p} OR description ILIKE ${p} OR category ILIKE ${p}
      OR EXISTS (SELECT 1 FROM menu_items mi WHERE mi.merchant_id = merchants.id
                 AND mi.deleted_at IS NULL AND mi.name ILIKE ${p}))`);
  }
  params.push(f.limit);
  const { rows } = await db.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS},
       CASE WHEN $1::float8 IS NULL THEN NULL ELSE haversine_km($1, $2, lat, lng) END AS distance_km
     FROM merchants
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY distance_km ASC NULLS LAST, name ASC
     LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export async function findMerchant(db: Queryable, id: string, forUpdate = false) {
  const { rows } = await db.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS}, NULL::float8 AS distance_km FROM merchants WHERE id = $1
     ${forUpdate ? 'FOR SHARE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

export async function findMerchantByOwner(db: Queryable, ownerId: string) {
  const { rows } = await db.query<MerchantRow>(
    `SELECT ${MERCHANT_COLUMNS}, NULL::float8 AS distance_km FROM merchants WHERE owner_id = $1`,
    [ownerId],
  );
  return rows[0] ?? null;
}

export async function updateStore(db: Queryable, id: string, patch: StorePatchBody) {
  const { rows } = await db.query<MerchantRow>(
    `UPDATE merchants SET
       is_open = COALESCE($2, is_open),
       avg_prep_time_minutes = COALESCE($3, avg_prep_time_minutes),
       delivery_radius_km = COALESCE($4, delivery_radius_km),
       updated_at = now()
     WHERE id = $1
     RETURNING ${MERCHANT_COLUMNS}, NULL::float8 AS distance_km`,
    [id, patch.isOpen ?? null, patch.avgPrepTimeMinutes ?? null, patch.deliveryRadiusKm ?? null],
  );
  return rows[0] ?? null;
}

const MENU_COLUMNS =
  'id, merchant_id, name, description, price_cents, category, is_available, updated_at';

export async function listMenu(db: Queryable, merchantId: string): Promise<MenuItem[]> {
  const { rows } = await db.query<MenuItemRow>(
    `SELECT ${MENU_COLUMNS} FROM menu_items WHERE merchant_id = $1 AND deleted_at IS NULL
     ORDER BY category, name`,
    [merchantId],
  );
  return rows.map(toMenuItem);
}

export async function insertMenuItem(db: Queryable, merchantId: string, b: MenuItemCreateBody) {
  const { rows } = await db.query<MenuItemRow>(
    `INSERT INTO menu_items (merchant_id, name, description, price_cents, category, is_available)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${MENU_COLUMNS}`,
    [merchantId, b.name, b.description, b.priceCents, b.category, b.isAvailable],
  );
  return toMenuItem(rows[0]!);
}

/** Updates an item of `merchantId` only: another store's item is "not found". */
export async function updateMenuItem(
  db: Queryable,
  merchantId: string,
  id: string,
  b: MenuItemPatchBody,
) {
  const { rows } = await db.query<MenuItemRow>(
    `UPDATE menu_items SET
       name = COALESCE($3, name), description = COALESCE($4, description),
       price_cents = COALESCE($5, price_cents), category = COALESCE($6, category),
       is_available = COALESCE($7, is_available), updated_at = now()
     WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL
     RETURNING ${MENU_COLUMNS}`,
    [
      id,
      merchantId,
      b.name ?? null,
      b.description ?? null,
      b.priceCents ?? null,
      b.category ?? null,
      b.isAvailable ?? null,
    ],
  );
  return rows[0] ? toMenuItem(rows[0]) : null;
}

export async function softDeleteMenuItem(db: Queryable, merchantId: string, id: string) {
  const { rowCount } = await db.query(
    `UPDATE menu_items SET deleted_at = now(), is_available = false, updated_at = now()
     WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL`,
    [id, merchantId],
  );
  return rowCount > 0;
}

export interface PricedMenuItem {
  id: string;
  merchant_id: string;
  name: string;
  price_cents: number;
  is_available: boolean;
}

export async function findMenuItems(db: Queryable, ids: string[]): Promise<PricedMenuItem[]> {
  const { rows } = await db.query<PricedMenuItem>(
    `SELECT id, merchant_id, name, price_cents, is_available FROM menu_items
     WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
    [ids],
  );
  return rows;
}
