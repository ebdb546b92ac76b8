import { arrayLiteral } from '../db/array-literal.ts';
import type { Queryable } from '../db/db.ts';

export interface DriverRow {
  id: string;
  name: string;
  vehicle_type: string;
  status: 'online' | 'offline';
  rating: number | null;
  current_lat: number | null;
  current_lng: number | null;
  active_orders: number;
}

export async function findDriver(db: Queryable, id: string): Promise<DriverRow | null> {
  const { rows } = await db.query<DriverRow>(
    `SELECT d.id, u.name, d.vehicle_type, d.status, d.rating, d.current_lat, d.current_lng, d.active_orders
     FROM drivers d JOIN users u ON u.id = d.id WHERE d.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function setDriverStatus(
  db: Queryable,
  id: string,
  status: 'online' | 'offline',
  position?: { lat: number; lng: number },
): Promise<void> {
  await db.query(
    `UPDATE drivers SET status = $2,
       went_offline_at = CASE WHEN $2 = 'offline' THEN now() ELSE NULL END,
       current_lat = COALESCE($3, current_lat), current_lng = COALESCE($4, current_lng),
       location_updated_at = CASE WHEN $3::float8 IS NULL THEN location_updated_at ELSE now() END,
       updated_at = now()
     WHERE id = $1`,
    [id, status, position?.lat ?? null, position?.lng ?? null],
  );
}

/**
 * The ids of the orders each driver is carrying right now (assigned and not finished), in the
 * order of `driverIds` (an empty list for most): one query for a batch of drivers.
 */
export async function activeOrderIdsOf(db: Queryable, driverIds: string[]): Promise<string[][]> {
  const { rows } = await db.query<{ id: string; driver_id: string }>(
    `SELECT id, driver_id FROM orders WHERE driver_id = ANY($1::uuid[])
       AND status IN ('confirmed', 'preparing', 'ready_for_pickup', 'picked_up')`,
    [driverIds],
  );
  const carried = new Map<string, string[]>();
  for (const r of rows) {
    const list = carried.get(r.driver_id);
    if (list) list.push(r.id);
    else carried.set(r.driver_id, [r.id]);
  }
  return driverIds.map((id) => carried.get(id) ?? []);
}

export interface HistoryPoint {
  driverId: string;
  lat: number;
  lng: number;
  heading: number | null;
  speedMps: number | null;
  accuracyM: number | null;
  /** Epoch milliseconds. */
  recordedAt: number;
}

/**
 * Writes a batch of sampled points in one statement and moves each driver's last known
 * position forward (never backward) in a second one.
 */
export async function writeHistoryBatch(db: Queryable, points: HistoryPoint[]): Promise<void> {
  if (points.length === 0) return;
  // Arrays go as literals written in one pass, times as epoch ms (to_timestamp is exact to the
  // millisecond here): see arrayLiteral.
  const col = <K extends keyof HistoryPoint>(k: K, rows = points) =>
    arrayLiteral(rows.map((p) => p[k]));
  await db.query(
    `INSERT INTO driver_location_history (driver_id, lat, lng, heading, speed_mps, accuracy_m, recorded_at)
     SELECT id, lat, lng, heading, speed, accuracy, to_timestamp(ms / 1000.0)
     FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::real[], $5::real[], $6::real[], $7::float8[])
       AS u(id, lat, lng, heading, speed, accuracy, ms)`,
    [
      col('driverId'),
      col('lat'),
      col('lng'),
      col('heading'),
      col('speedMps'),
      col('accuracyM'),
      col('recordedAt'),
    ],
  );
  const latest = new Map<string, HistoryPoint>();
  for (const p of points) {
    const seen = latest.get(p.driverId);
    if (!seen || seen.recordedAt < p.recordedAt) latest.set(p.driverId, p);
  }
  const last = [...latest.values()];
  await db.query(
    `UPDATE drivers d SET current_lat = u.lat, current_lng = u.lng, location_updated_at = u.at
     FROM (SELECT id, lat, lng, to_timestamp(ms / 1000.0) AS at
           FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::float8[]) AS v(id, lat, lng, ms)) u
     WHERE d.id = u.id AND (d.location_updated_at IS NULL OR d.location_updated_at < u.at)`,
    [col('driverId', last), col('lat', last), col('lng', last), col('recordedAt', last)],
  );
}
