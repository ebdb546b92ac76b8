import type { OrderRow } from '../orders/orders.repository.ts';
import type { Queryable } from '../db/db.ts';

/** What ETA needs to know about an order; cached briefly because every location update uses it. */
export interface TrackInfo {
  orderId: string;
  status: string;
  driverId: string | null;
  vehicleType: string | null;
  merchant: { lat: number; lng: number };
  dropoff: { lat: number; lng: number };
  /** Epoch ms the kitchen is expected to be done. */
  readyAt: number;
  driverPosition: { lat: number; lng: number } | null;
}

interface Row {
  id: string;
  status: string;
  driver_id: string | null;
  vehicle_type: string | null;
  m_lat: number;
  m_lng: number;
  delivery_lat: number;
  delivery_lng: number;
  created_at: Date;
  confirmed_at: Date | null;
  ready_at: Date | null;
  prep_minutes: number;
  d_lat: number | null;
  d_lng: number | null;
}

export async function findTrackInfo(db: Queryable, orderId: string): Promise<TrackInfo | null> {
  const { rows } = await db.query<Row>(
    `SELECT o.id, o.status, o.driver_id, d.vehicle_type, m.lat AS m_lat, m.lng AS m_lng,
            o.delivery_lat, o.delivery_lng, o.created_at, o.confirmed_at, o.ready_at,
            m.avg_prep_time_minutes AS prep_minutes, d.current_lat AS d_lat, d.current_lng AS d_lng
     FROM orders o JOIN merchants m ON m.id = o.merchant_id LEFT JOIN drivers d ON d.id = o.driver_id
     WHERE o.id = $1`,
    [orderId],
  );
  const r = rows[0];
  return r ? toTrackInfo(r) : null;
}

/** The same facts taken from an order row just read or written (no query). */
export function trackInfoOfOrder(o: OrderRow): TrackInfo {
  return toTrackInfo({
    id: o.id,
    status: o.status,
    driver_id: o.driver_id,
    vehicle_type: o.driver_vehicle,
    m_lat: o.merchant_lat,
    m_lng: o.merchant_lng,
    delivery_lat: o.delivery_lat,
    delivery_lng: o.delivery_lng,
    created_at: o.created_at,
    confirmed_at: o.confirmed_at,
    ready_at: o.ready_at,
    prep_minutes: o.merchant_prep_minutes,
    d_lat: o.driver_lat,
    d_lng: o.driver_lng,
  });
}

function toTrackInfo(r: Row): TrackInfo {
  const prepStart = (r.confirmed_at ?? r.created_at).getTime();
  return {
    orderId: r.id,
    status: r.status,
    driverId: r.driver_id,
    vehicleType: r.vehicle_type,
    merchant: { lat: r.m_lat, lng: r.m_lng },
    dropoff: { lat: r.delivery_lat, lng: r.delivery_lng },
    readyAt: r.ready_at ? r.ready_at.getTime() : prepStart + r.prep_minutes * 60_000,
    driverPosition: r.d_lat !== null && r.d_lng !== null ? { lat: r.d_lat, lng: r.d_lng } : null,
  };
}
