export interface Point {
  lat: number;
  lng: number;
}

const EARTH_RADIUS_M = 6_371_000;
const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

export function distanceM(a: Point, b: Point): number {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Compass bearing from `a` to `b`, in degrees [0, 360). */
export function bearingDeg(a: Point, b: Point): number {
  const y = Math.sin(rad(b.lng - a.lng)) * Math.cos(rad(b.lat));
  const x =
    Math.cos(rad(a.lat)) * Math.sin(rad(b.lat)) -
    Math.sin(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.cos(rad(b.lng - a.lng));
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

/** The point `metres` from `p` in direction `bearing` (flat-earth: fine at city scale). */
export function offset(p: Point, bearing: number, metres: number): Point {
  const dLat = (metres * Math.cos(rad(bearing))) / EARTH_RADIUS_M;
  const dLng = (metres * Math.sin(rad(bearing))) / (EARTH_RADIUS_M * Math.cos(rad(p.lat)));
  return { lat: p.lat + deg(dLat), lng: p.lng + deg(dLng) };
}

/** The point a fraction `t` of the way from `a` to `b` along a straight line. */
export function interpolate(a: Point, b: Point, t: number): Point {
  return { lat: a.lat + (b.lat - a.lat) * t, lng: a.lng + (b.lng - a.lng) * t };
}

/** Uniform over the disc's area (not bunched at the centre). */
export function randomPointInDisc(random: () => number, centre: Point, radiusM: number): Point {
  const r = radiusM * Math.sqrt(random());
  return offset(centre, random() * 360, r);
}

/** Rounds to 6 decimals (about 0.1 m), as a phone would report. */
export function round6(p: Point): Point {
  return { lat: Math.round(p.lat * 1e6) / 1e6, lng: Math.round(p.lng * 1e6) / 1e6 };
}
