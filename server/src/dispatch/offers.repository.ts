import type { Offer } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

/** What an offer shows of its order: where to pick up, where to deliver, how far. */
export interface OfferFacts {
  m_name: string;
  m_address: string;
  m_lat: number;
  m_lng: number;
  delivery_address: string;
  delivery_lat: number;
  delivery_lng: number;
  order_distance_km: number;
}

interface OfferViewRow extends OfferFacts {
  id: string;
  order_id: string;
  status: Offer['status'];
  expires_at: Date;
  offered_at: Date;
  distance_km: number;
  earnings_cents: number;
}

const OFFER_VIEW = `
  SELECT f.id, f.order_id, f.status, f.expires_at, f.offered_at, f.distance_km, f.earnings_cents,
         m.name AS m_name, m.address AS m_address, m.lat AS m_lat, m.lng AS m_lng,
         o.delivery_address, o.delivery_lat, o.delivery_lng, o.distance_km AS order_distance_km
  FROM driver_offers f
  JOIN orders o ON o.id = f.order_id
  JOIN merchants m ON m.id = o.merchant_id`;

const round = (x: number) => Math.round(x * 1000) / 1000;

function toOffer(r: OfferViewRow): Offer {
  return {
    id: r.id,
    orderId: r.order_id,
    status: r.status,
    expiresAt: r.expires_at.toISOString(),
    offeredAt: r.offered_at.toISOString(),
    distanceKm: round(r.distance_km),
    earningsCents: r.earnings_cents,
    pickup: { name: r.m_name, address: r.m_address, lat: r.m_lat, lng: r.m_lng },
    dropoff: { address: r.delivery_address, lat: r.delivery_lat, lng: r.delivery_lng },
    deliveryDistanceKm: round(r.order_distance_km),
  };
}

/** A new offer as its driver sees it, from what the step that made it knows: no read. */
export const newOfferView = (
  order: OfferFacts & { id: string },
  o: { id: string; offeredAt: Date; expiresAt: Date; distanceKm: number; earningsCents: number },
): Offer =>
  toOffer({
    ...order,
    id: o.id,
    order_id: order.id,
    status: 'pending',
    offered_at: o.offeredAt,
    expires_at: o.expiresAt,
    distance_km: o.distanceKm,
    earnings_cents: o.earningsCents,
  });

export async function findPendingOfferView(db: Queryable, driverId: string, now: Date) {
  const { rows } = await db.query<OfferViewRow>(
    `${OFFER_VIEW} WHERE f.driver_id = $1 AND f.status = 'pending' AND f.expires_at > $2`,
    [driverId, now],
  );
  return rows[0] ? toOffer(rows[0]) : null;
}
