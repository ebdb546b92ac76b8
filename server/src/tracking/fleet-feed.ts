import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AppliedLocation } from '../drivers/location.service.ts';
import type { Clock } from '../platform/clock.ts';

/** Drivers serialised per event-loop turn when a batch is built (~1 ms of work). */
const SLICE = 1_000;
/** A driver that has not reported to this instance for this long leaves the table. */
export const FLEET_FORGET_AFTER_MS = 300_000;

/**
 * A driver's latest position, kept per driver and updated in place: a new object per report
 * would live until the next batch, long enough to be copied out of the young generation, and
 * then die in the old one.
 */
interface Entry extends AppliedLocation {
  /** This instance's clock when the driver last reported here. */
  seenAt: number;
  /** Reported since the last batch, so it is in `dirty`. */
  dirty: boolean;
}

/**
 * One driver of a `fleet.positions` batch as JSON, written out directly: the same text as
 * `JSON.stringify` of `{driverId, lat, lng, heading, recordedAt}` with an ISO `recordedAt`, for
 * the finite numbers the location service accepts, without an object per driver per batch.
 */
export function fleetEntryJson(p: AppliedLocation): string {
  const iso = new Date(p.recordedAt).toISOString();
  return `{"driverId":${JSON.stringify(p.driverId)},"lat":${p.lat},"lng":${p.lng},"heading":${p.heading},"recordedAt":"${iso}"}`;
}

/**
 * The positions behind the admins' fleet map on one instance: the drivers that reported here,
 * and which of them moved since the last `fleet.positions` batch.
 */
export class FleetFeed {
  private readonly entries = new Map<string, Entry>();
  private dirty: Entry[] = [];
  private forgottenAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly slice = SLICE,
  ) {
    this.forgottenAt = clock.now();
  }

  /** Drivers in the table. */
  get size(): number {
    return this.entries.size;
  }

  record(u: AppliedLocation): void {
    const now = this.clock.now();
    const entry = this.entries.get(u.driverId);
    if (!entry) {
      const added: Entry = { ...u, seenAt: now, dirty: true };
      this.entries.set(u.driverId, added);
      this.dirty.push(added);
      return;
    }
    entry.lat = u.lat;
    entry.lng = u.lng;
    entry.heading = u.heading;
    entry.recordedAt = u.recordedAt;
    entry.seenAt = now;
    if (!entry.dirty) {
      entry.dirty = true;
      this.dirty.push(entry);
    }
  }

  /**
   * The `fleet.positions` data for the drivers that reported since the last batch (null when
   * none did), serialised `slice` drivers per event-loop turn so location acks are not held up
   * behind it. Each driver is read as it is serialised: a report that arrives before its turn
   * is in this batch, one after it in the next.
   */
  async nextBatch(): Promise<string | null> {
    this.forgetQuiet();
    if (this.dirty.length === 0) return null;
    const batch = this.dirty;
    this.dirty = [];
    const drivers = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      if (i > 0 && i % this.slice === 0) await nextTurn();
      const entry = batch[i]!;
      entry.dirty = false;
      drivers[i] = fleetEntryJson(entry);
    }
    return `{"drivers":[${drivers.join(',')}]}`;
  }

  /** Drops drivers gone quiet here (offline, or now on another instance); a tenth as often. */
  private forgetQuiet(): void {
    const now = this.clock.now();
    if (now - this.forgottenAt < FLEET_FORGET_AFTER_MS / 10) return;
    this.forgottenAt = now;
    for (const [driverId, entry] of this.entries) {
      if (!entry.dirty && now - entry.seenAt >= FLEET_FORGET_AFTER_MS) {
        this.entries.delete(driverId);
      }
    }
  }
}
