import type { Queryable } from '../db/db.ts';

export interface AdminDriverRow {
  id: string;
  name: string;
  email: string;
  vehicle_type: string;
  status: 'online' | 'offline';
  current_lat: number | null;
  current_lng: number | null;
  location_updated_at: Date | null;
  active_orders: number;
  rating: number | null;
  acceptance_rate: number | null;
  total_deliveries: number;
  /** Creation time truncated to the millisecond: the paging key, exact through a Date. */
  created_ms: Date;
}

export interface DriverFilter {
  status?: 'online' | 'offline';
  before?: { createdAt: string; id: string };
  limit: number;
}

/** Drivers, newest first, with their last known position and load. */
export async function listDrivers(db: Queryable, f: DriverFilter): Promise<AdminDriverRow[]> {
  const params: unknown[] = [f.limit];
  const where: string[] = [];
  if (f.status) {
    params.push(f.status);
    where.push(`d.status = $${params.length}`);
  }
  if (f.before) {
    params.push(f.before.createdAt, f.before.id);
    where.push(
      `(date_trunc('milliseconds', d.created_at), d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
    );
  }
  const { rows } = await db.query<AdminDriverRow>(
    `SELECT d.id, u.name, u.email, d.vehicle_type, d.status, d.current_lat, d.current_lng,
            d.location_updated_at, d.active_orders, d.rating, d.total_deliveries,
            d.offers_accepted::float8 / NULLIF(d.offers_received, 0) AS acceptance_rate,
            date_trunc('milliseconds', d.created_at) AS created_ms
     FROM drivers d JOIN users u ON u.id = d.id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY date_trunc('milliseconds', d.created_at) DESC, d.id DESC LIMIT $1`,
    params,
  );
  return rows;
}
