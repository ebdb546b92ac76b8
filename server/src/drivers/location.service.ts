import type { LocationBody } from '@delivery/contracts';
import type { GeoIndex } from '../adapters/ports.ts';
import { locationUpdates } from '../metrics/metrics.ts';
import type { Clock } from '../platform/clock.ts';
import { haversineKm, untrackable } from '../platform/geo.ts';
import type { HistoryWriter } from './history-writer.ts';

/** Driver metadata lives one hour after its last update (design: driver_metadata TTL). */
export const DRIVER_GEO_TTL_MS = 3_600_000;
const JUMP_FLOOR_M = 500;

export interface LocationSettings {
  maxSpeedMps: number;
  maxSkewMs: number;
  historyEveryMs: number;
  historyEveryM: number;
}

export interface LocationResult {
  accepted: boolean;
  /** False when a newer position was already stored (last write wins by recordedAt). */
  applied?: boolean;
  reason?: string;
}

export interface AppliedLocation {
  driverId: string;
  lat: number;
  lng: number;
  heading: number | null;
  recordedAt: number;
}

interface Seen {
  lat: number;
  lng: number;
  at: number;
}

/**
 * Updates a driver's entry in place: one object per driver for as long as the process runs,
 * rather than a new one per update that outlives a few young-generation collections (the next
 * update comes seconds later) and so ends up as garbage in the old generation.
 */
function remember(seen: Map<string, Seen>, driverId: string, lat: number, lng: number, at: number) {
  const known = seen.get(driverId);
  if (!known) {
    seen.set(driverId, { lat, lng, at });
    return;
  }
  known.lat = lat;
  known.lng = lng;
  known.at = at;
}

/**
 * The hot path for driver positions: validate, write the geo index (one round trip, last write
 * wins), sample history into a batch, hand the position to tracking. No database round trip.
 */
export class LocationService {
  private readonly lastSeen = new Map<string, Seen>();
  private readonly lastSampled = new Map<string, Seen>();

  constructor(
    private readonly geo: GeoIndex,
    private readonly history: HistoryWriter,
    private readonly clock: Clock,
    private readonly settings: LocationSettings,
    private readonly onApplied: (update: AppliedLocation) => void,
  ) {}

  async ingest(driverId: string, body: LocationBody): Promise<LocationResult> {
    const now = this.clock.now();
    const at = body.recordedAt ? Date.parse(body.recordedAt) : now;
    let rejected = this.validate(body, at, now);
    // The geo index is read only for a driver this process has not seen yet.
    if (rejected === null) {
      rejected = this.implausibleJump(
        this.lastSeen.get(driverId) ?? (await this.geo.get(driverId)),
        body,
        at,
      );
    }
    if (rejected) {
      locationUpdates.inc('rejected');
      return { accepted: false, reason: rejected };
    }
    const applied = await this.geo.set(
      driverId,
      { lat: body.lat, lng: body.lng, at },
      DRIVER_GEO_TTL_MS,
    );
    if (!applied) {
      locationUpdates.inc('stale');
      return { accepted: true, applied: false, reason: 'a newer position is already stored' };
    }
    locationUpdates.inc('applied');
    remember(this.lastSeen, driverId, body.lat, body.lng, at);
    this.sample(driverId, body, at);
    this.onApplied({
      driverId,
      lat: body.lat,
      lng: body.lng,
      heading: body.heading ?? null,
      recordedAt: at,
    });
    return { accepted: true, applied: true };
  }

  /** Forgets a driver's last position, e.g. on going online at a new place. */
  reset(driverId: string, position?: Seen): void {
    if (position) remember(this.lastSeen, driverId, position.lat, position.lng, position.at);
    else this.lastSeen.delete(driverId);
  }

  private validate(body: LocationBody, at: number, now: number): string | null {
    if (!Number.isFinite(at)) return 'recordedAt is not a valid time';
    if (at > now + this.settings.maxSkewMs) return 'recordedAt is in the future';
    if (at < now - DRIVER_GEO_TTL_MS) return 'recordedAt is more than an hour old';
    if (body.lat === 0 && body.lng === 0) return 'position 0,0 is a device error';
    return untrackable(body);
  }

  /** A jump faster than any vehicle (default 70 m/s) is a GPS glitch, not a drive. */
  private implausibleJump(prev: Seen | null, body: LocationBody, at: number): string | null {
    if (!prev || at <= prev.at) return null;
    const metres = haversineKm(prev, body) * 1000;
    const speed = metres / ((at - prev.at) / 1000);
    // Under JUMP_FLOOR_M it is GPS noise (or a fix right after going online), never a teleport.
    return metres > JUMP_FLOOR_M && speed > this.settings.maxSpeedMps
      ? `implausible speed ${Math.round(speed)} m/s since the last position`
      : null;
  }

  private sample(driverId: string, body: LocationBody, at: number): void {
    const prev = this.lastSampled.get(driverId);
    const due =
      !prev ||
      at - prev.at >= this.settings.historyEveryMs ||
      haversineKm(prev, body) * 1000 >= this.settings.historyEveryM;
    if (!due) return;
    remember(this.lastSampled, driverId, body.lat, body.lng, at);
    this.history.add({
      driverId,
      lat: body.lat,
      lng: body.lng,
      heading: body.heading ?? null,
      speedMps: body.speedMps ?? null,
      accuracyM: body.accuracyM ?? null,
      recordedAt: at,
    });
  }
}
