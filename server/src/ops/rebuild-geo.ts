import type { Logger } from 'pino';
import type { GeoIndex } from '../adapters/ports.ts';
import type { Queryable } from '../db/db.ts';
import { DRIVER_GEO_TTL_MS } from '../drivers/location.service.ts';
import type { Clock } from '../platform/clock.ts';

/**
 * Rebuilds the geo index (Redis, or the in-process one) from PostgreSQL, the design's backfill
 * "Rebuild search index from PostgreSQL": every online driver whose last stored position
 * (`drivers.current_lat/lng`, `location_updated_at`) is at most `maxAgeMs` old goes back in, with
 * that position's own time. The index keeps the newest position per driver, so an entry a driver
 * has already refreshed since is left as it is, and running this twice changes nothing.
 *
 * Without it the index refills anyway, one driver per location update (apps send one every few
 * seconds). PostgreSQL gets positions in sampled batches (every 10 s / 50 m, flushed every 2 s),
 * so a restored position may be up to ~12 s older than the one lost.
 */
export interface RebuildGeoDeps {
  db: Queryable;
  geo: GeoIndex;
  clock: Clock;
  maxAgeMs: number;
  log?: Logger;
  dryRun?: boolean;
}

export interface RebuildGeoReport {
  job: 'rebuild-geo';
  dryRun: boolean;
  /** Online drivers in PostgreSQL. */
  online: number;
  /** Put back (or, on a dry run, would be). */
  restored: number;
  /** The index already had a newer position for them. */
  newerInIndex: number;
  /** No stored position, or one older than `maxAgeMs`: they come back with their next update. */
  stale: number;
  /** Entries in the index afterwards (its size before, on a dry run). */
  indexSize: number;
  durationMs: number;
  summary: string;
}

const PAGE = 1_000;
const PARALLEL = 50;

export async function rebuildGeoIndex(deps: RebuildGeoDeps): Promise<RebuildGeoReport> {
  const started = performance.now();
  const { db, geo, clock, maxAgeMs } = deps;
  const dryRun = deps.dryRun ?? false;
  const now = clock.now();
  const report: RebuildGeoReport = {
    job: 'rebuild-geo',
    dryRun,
    online: 0,
    restored: 0,
    newerInIndex: 0,
    stale: 0,
    indexSize: 0,
    durationMs: 0,
    summary: '',
  };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await db.query<{
      id: string;
      lat: number | null;
      lng: number | null;
      at: Date | null;
    }>(
      `SELECT id, current_lat AS lat, current_lng AS lng, location_updated_at AS at
       FROM drivers WHERE status = 'online' AND id > $1 ORDER BY id LIMIT ${PAGE}`,
      [after],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    report.online += rows.length;
    const fresh = rows.filter(
      (r): r is typeof r & { lat: number; lng: number; at: Date } =>
        r.lat !== null && r.lng !== null && r.at !== null && now - r.at.getTime() <= maxAgeMs,
    );
    report.stale += rows.length - fresh.length;
    for (let i = 0; i < fresh.length; i += PARALLEL) {
      const applied = await Promise.all(
        fresh.slice(i, i + PARALLEL).map(async (r) => {
          const at = r.at.getTime();
          if (dryRun) return ((await geo.get(r.id))?.at ?? -Infinity) <= at;
          // The entry lives as long as it would have from its own update.
          const ttl = Math.max(1_000, DRIVER_GEO_TTL_MS - Math.max(0, now - at));
          return geo.set(r.id, { lat: r.lat, lng: r.lng, at }, ttl);
        }),
      );
      for (const ok of applied) {
        if (ok) report.restored += 1;
        else report.newerInIndex += 1;
      }
    }
    if (rows.length < PAGE) break;
  }
  report.indexSize = await geo.size();
  report.durationMs = Math.round(performance.now() - started);
  report.summary =
    `${report.restored} driver(s) ${dryRun ? 'would be ' : ''}restored, ${report.newerInIndex} newer in the index, ` +
    `${report.stale} without a recent position (of ${report.online} online); index size ${report.indexSize}`;
  deps.log?.info({ report }, 'geo index rebuilt from PostgreSQL');
  return report;
}
