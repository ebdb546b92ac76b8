import type { Clock } from '../../platform/clock.ts';
import type { GeoEntry, GeoHit, GeoIndex, GeoPoint } from '../ports.ts';
import { TtlMap } from '../../platform/ttl-map.ts';

// Redis's own constants, so both adapters accept the same points and report the same distances.
const EARTH_RADIUS_KM = 6372.797560856;
const MAX_LAT = 85.05112878;

const rad = (deg: number): number => (deg * Math.PI) / 180;

export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const u = Math.sin(rad(b.lat - a.lat) / 2);
  const v = Math.sin(rad(b.lng - a.lng) / 2);
  const h = u * u + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * v * v;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(h));
}

export class MemoryGeoIndex implements GeoIndex {
  private readonly entries: TtlMap<string, GeoEntry>;

  constructor(clock: Clock) {
    this.entries = new TtlMap(clock);
  }

  set(id: string, entry: GeoEntry, ttlMs: number): Promise<boolean> {
    const { lat, lng, at } = entry;
    if (!(Math.abs(lat) <= MAX_LAT && Math.abs(lng) <= 180)) {
      return Promise.reject(new RangeError(`invalid position ${lng},${lat}`));
    }
    const current = this.entries.get(id);
    if (current && current.at > at) return Promise.resolve(false);
    this.entries.set(id, { lat, lng, at }, ttlMs);
    return Promise.resolve(true);
  }

  get(id: string): Promise<GeoEntry | null> {
    const e = this.entries.get(id);
    return Promise.resolve(e ? { ...e } : null);
  }

  remove(id: string): Promise<void> {
    this.entries.delete(id);
    return Promise.resolve();
  }

  search(center: GeoPoint, radiusKm: number, limit: number): Promise<GeoHit[]> {
    const hits: GeoHit[] = [];
    for (const [id, e] of this.entries.entries()) {
      const d = distanceKm(center, e);
      // Reported rounded like Redis's WITHDIST reply (4 decimals).
      if (d <= radiusKm) hits.push({ id, ...e, distanceKm: Math.round(d * 1e4) / 1e4 });
    }
    hits.sort((a, b) => a.distanceKm - b.distanceKm);
    return Promise.resolve(hits.slice(0, Math.max(0, limit)));
  }

  size(): Promise<number> {
    return Promise.resolve(this.entries.size());
  }

  clear(): void {
    this.entries.clear();
  }
}
