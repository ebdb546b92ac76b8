export interface LatLng {
  lat: number;
  lng: number;
}

/** Heidelberg's centre (Bismarckplatz side of the Altstadt): the demo data lives around it. */
export const HEIDELBERG: LatLng = { lat: 49.4093, lng: 8.6937 };

/** Great-circle distance in kilometres. */
export function distanceKm(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(h));
}

/** Compass bearing from `a` to `b` in degrees, 0 (north) to 360. */
export function bearingDeg(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const y = Math.sin((b.lng - a.lng) * rad) * Math.cos(b.lat * rad);
  const x =
    Math.cos(a.lat * rad) * Math.sin(b.lat * rad) -
    Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos((b.lng - a.lng) * rad);
  const deg = Math.atan2(y, x) / rad;
  return (deg + 360) % 360;
}

/**
 * The point `metres` along the straight line from `from` to `to`, or `to` itself when it is
 * closer than that (the simulated drive arrives and stays).
 */
export function stepToward(from: LatLng, to: LatLng, metres: number): LatLng {
  const total = distanceKm(from, to) * 1000;
  if (total <= metres || total === 0) return { lat: to.lat, lng: to.lng };
  const f = metres / total;
  return { lat: from.lat + (to.lat - from.lat) * f, lng: from.lng + (to.lng - from.lng) * f };
}
