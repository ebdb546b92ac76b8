import type { GeoPoint } from '../adapters/ports.ts';

const EARTH_RADIUS_KM = 6371;

/** The geo index (Redis GEO, Web Mercator) only holds latitudes up to this, north or south. */
export const GEO_MAX_LATITUDE = 85.05112878;

/** Why a position cannot be tracked, or null when it can. */
export function untrackable(p: GeoPoint): string | null {
  return Math.abs(p.lat) > GEO_MAX_LATITUDE
    ? `latitudes beyond ±${GEO_MAX_LATITUDE}° cannot be tracked`
    : null;
}
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in kilometres; the same formula as the SQL `haversine_km`. */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
