import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus, GeoIndex } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { activeOrderIdsOf } from '../drivers/drivers.repository.ts';
import { deliveryDistance, deliveryTime, etaError } from '../metrics/metrics.ts';
import type { TransitionListener } from '../orders/orders.service.ts';
import type { AppliedLocation } from '../drivers/location.service.ts';
import type { Clock } from '../platform/clock.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { etaMinutes, type EtaSettings } from './eta.ts';
import { FleetFeed } from './fleet-feed.ts';
import { LocalCache } from '../platform/local-cache.ts';
import { findTrackInfo, trackInfoOfOrder, type TrackInfo } from './tracking.repository.ts';

/** The longest a cached driver -> orders list or order's track info is used without a refill. */
export const CACHE_TTL_MS = 60_000;
/** Up to this much is taken off each entry's TTL at random, so refills do not line up. */
const CACHE_JITTER_MS = 12_000;
const CACHE_MAX_ENTRIES = 100_000;
/** A reporting driver's orders are re-read in the background this long after they were read. */
const DRIVER_REFRESH_AFTER_MS = 40_000;
/** A driver missing from the cache waits at most this long for others to share its query. */
const DRIVER_MISS_WINDOW_MS = 20;
/** Background re-reads wait this long for company (at 15,000 drivers ~400 share a query). */
const DRIVER_REFRESH_WINDOW_MS = 1_000;
const DRIVER_BATCH_MAX = 1_000;
/**
 * Internal bus channel (not a client channel: `/ws` only accepts order, merchant, driver and
 * fleet names) on which an instance tells the others to drop cached facts after a change.
 */
export const TRACKING_INVALIDATE_CHANNEL = 'internal:tracking-invalidate';
const RESUBSCRIBE_MS = 5_000;
/** At most one location event per order per second (the customer's map needs no more). */
const ORDER_PUSH_EVERY_MS = 1_000;
const FLEET_PUSH_EVERY_MS = 2_000;

export interface Eta {
  minutes: number;
  at: string;
}

/**
 * Live tracking: turns applied driver positions into `order.driver_location` and `order.eta`
 * events on the orders the driver carries, and a periodic `fleet.positions` batch for admins.
 */
export class TrackingService {
  private readonly lastPush = new Map<string, number>();
  private readonly lastEta = new Map<string, number>();
  private readonly fleet: FleetFeed;
  /** This instance's last `fleet.positions` event, which the next one replaces in the log. */
  private lastFleetEventId: string | undefined;
  private fleetTimer: NodeJS.Timeout | undefined;
  /** driverId -> ids of the active orders it carries (empty for most drivers). */
  private readonly ordersOfDriver: LocalCache<string[]>;
  /** orderId -> what the ETA needs; a missing order is not cached. */
  private readonly trackInfoOf: LocalCache<TrackInfo | null>;
  /** Tells this instance's own invalidation messages apart from the other instances'. */
  private readonly instanceId = randomUUID();
  private unsubscribe: (() => Promise<void>) | null = null;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly geo: GeoIndex,
    private readonly publisher: ChannelPublisher,
    private readonly clock: Clock,
    private readonly eta: EtaSettings,
    private readonly log: Logger,
  ) {
    const common = {
      ttlMs: CACHE_TTL_MS,
      jitterMs: CACHE_JITTER_MS,
      maxEntries: CACHE_MAX_ENTRIES,
      clock,
    };
    // Read for every driver that reports: the reads of many drivers share one query, and a
    // driver that keeps reporting is refreshed before its entry expires, so it never waits.
    this.ordersOfDriver = new LocalCache({
      ...common,
      refreshAfterMs: DRIVER_REFRESH_AFTER_MS,
      batch: {
        loadMany: (driverIds) => activeOrderIdsOf(this.db, driverIds),
        windowMs: DRIVER_MISS_WINDOW_MS,
        refreshWindowMs: DRIVER_REFRESH_WINDOW_MS,
        max: DRIVER_BATCH_MAX,
      },
    });
    this.fleet = new FleetFeed(clock);
    this.trackInfoOf = new LocalCache({
      ...common,
      load: (orderId) => findTrackInfo(this.db, orderId),
      keep: (info) => info !== null,
    });
  }

  start(): void {
    this.stopped = false;
    // Each instance starts its cycle at a random point of it, so the instances' batches (~1.5
    // MB each at 15,000 drivers) do not reach Redis, and take the CPU, at the same moment.
    this.fleetTimer = setTimeout(() => {
      this.fleetTimer = setInterval(() => void this.pushFleet(), FLEET_PUSH_EVERY_MS);
      this.fleetTimer.unref();
      void this.pushFleet();
    }, Math.random() * FLEET_PUSH_EVERY_MS);
    this.fleetTimer.unref();
    void this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.fleetTimer);
    clearTimeout(this.resubscribeTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.().catch((err: unknown) =>
      this.log.warn({ err }, 'tracking invalidation unsubscribe failed'),
    );
  }

  /**
   * Listens for the other instances' invalidations. Until it is subscribed (or if messages are
   * lost, say while Redis is down), cached entries still expire after at most CACHE_TTL_MS.
   */
  private async listen(): Promise<void> {
    try {
      const unsubscribe = await this.bus.subscribe(TRACKING_INVALIDATE_CHANNEL, (raw) =>
        this.onInvalidation(raw),
      );
      if (this.stopped) await unsubscribe();
      else this.unsubscribe = unsubscribe;
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ err }, 'tracking invalidation subscribe failed; retrying');
      this.resubscribeTimer = setTimeout(() => void this.listen(), RESUBSCRIBE_MS);
      this.resubscribeTimer.unref();
    }
  }

  private onInvalidation(raw: string): void {
    let msg: { from?: unknown; orderId?: unknown; driverIds?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      this.log.warn('malformed tracking invalidation ignored');
      return;
    }
    if (msg.from === this.instanceId) return; // already dropped locally
    if (typeof msg.orderId !== 'string' || !Array.isArray(msg.driverIds)) return;
    this.dropLocal(
      msg.orderId,
      msg.driverIds.filter((d): d is string => typeof d === 'string'),
    );
  }

  /**
   * Records the delivery time predicted at pickup, and on delivery how far off it was: the
   * design's accuracy goal (within 3 minutes, 90% of the time) is read off `etaError`. The
   * prediction starts from the driver's last stored position (at the store, sampled at most
   * seconds ago) and needs nothing but the moved order, so its statement goes out at once.
   */
  readonly onStatusChange: TransitionListener = async (tx, { order, to }) => {
    // The order as moved is what the ETA needs: kept for the answer's ETA and the next pushes.
    const info = trackInfoOfOrder(order);
    let predicting: Promise<unknown> | undefined;
    if (to === 'picked_up') {
      const eta = this.computeEta(info, info.driverPosition ?? info.merchant);
      if (eta)
        predicting = tx.query('UPDATE orders SET predicted_delivery_at = $2 WHERE id = $1', [
          order.id,
          eta.at,
        ]);
    } else if (to === 'delivered' && order.delivered_at) {
      const delivered = order.delivered_at.getTime();
      const { predicted_delivery_at: predicted, picked_up_at: pickedUp, distance_km: km } = order;
      tx.afterCommit(() => {
        if (predicted) etaError.observe(Math.abs(delivered - predicted.getTime()) / 1000);
        if (pickedUp) deliveryTime.observe((delivered - pickedUp.getTime()) / 1000);
        deliveryDistance.observe(km);
      });
    }
    tx.afterCommit(() => this.invalidate(order.id, [order.driver_id], info));
    await predicting;
  };

  /** Called for every applied position; never throws into the hot path. */
  onLocation(update: AppliedLocation): void {
    this.fleet.record(update);
    // Most drivers carry nothing: a cached empty list ends here, without a promise.
    const carried = this.ordersOfDriver.peek(update.driverId);
    if (carried && carried.length === 0) return;
    this.pushToOrders(update, carried).catch((err: unknown) =>
      this.log.warn({ err }, 'tracking push failed'),
    );
  }

  /**
   * Forgets cached facts after a status change or assignment has committed: at once in this
   * process, and in every other instance through the bus. Never throws; a lost message leaves
   * the others at most CACHE_TTL_MS behind. With `current` (the order as just moved), this
   * process keeps it instead, so the move's answer and the next pushes read nothing.
   */
  async invalidate(
    orderId: string,
    driverIds: Array<string | null>,
    current?: TrackInfo,
  ): Promise<void> {
    const drivers = driverIds.filter((d): d is string => d !== null);
    this.dropLocal(orderId, drivers);
    if (current) this.trackInfoOf.set(orderId, current);
    const message = JSON.stringify({ from: this.instanceId, orderId, driverIds: drivers });
    try {
      await this.bus.publish(TRACKING_INVALIDATE_CHANNEL, message);
    } catch (err) {
      this.log.warn(
        { err, orderId },
        'tracking invalidation not broadcast; others catch up by TTL',
      );
    }
  }

  private dropLocal(orderId: string, driverIds: string[]): void {
    this.trackInfoOf.invalidate(orderId);
    for (const id of driverIds) this.ordersOfDriver.invalidate(id);
    this.lastEta.delete(orderId);
  }

  async etaFor(orderId: string): Promise<Eta | null> {
    const info = await this.trackInfo(orderId);
    if (!info) return null;
    const live = info.driverId ? await this.geo.get(info.driverId) : null;
    return this.computeEta(info, live ?? info.driverPosition);
  }

  private computeEta(info: TrackInfo, driver: { lat: number; lng: number } | null): Eta | null {
    const now = this.clock.now();
    const minutes = etaMinutes({ ...info, now, driver }, this.eta);
    if (minutes === null) return null;
    const rounded = Math.round(minutes * 10) / 10;
    return { minutes: rounded, at: new Date(now + minutes * 60_000).toISOString() };
  }

  private async pushToOrders(u: AppliedLocation, cached: string[] | undefined): Promise<void> {
    const orderIds = cached ?? (await this.ordersOfDriver.get(u.driverId));
    const now = this.clock.now();
    for (const orderId of orderIds) {
      if (now - (this.lastPush.get(orderId) ?? 0) < ORDER_PUSH_EVERY_MS) continue;
      if (this.lastPush.size > 50_000) this.forgetIdle(now);
      this.lastPush.set(orderId, now);
      await this.publisher.publish(`order:${orderId}`, 'order.driver_location', {
        orderId,
        driverId: u.driverId,
        lat: u.lat,
        lng: u.lng,
        heading: u.heading,
        recordedAt: new Date(u.recordedAt).toISOString(),
      });
      const info = await this.trackInfo(orderId);
      const eta = info && this.computeEta(info, u);
      if (eta && Math.round(eta.minutes) !== this.lastEta.get(orderId)) {
        this.lastEta.set(orderId, Math.round(eta.minutes));
        await this.publisher.publish(`order:${orderId}`, 'order.eta', { orderId, ...eta });
      }
    }
  }

  /** Drops throttle state of orders not pushed for a minute (finished or idle). */
  private forgetIdle(now: number): void {
    for (const [orderId, at] of this.lastPush) {
      if (now - at > 60_000) {
        this.lastPush.delete(orderId);
        this.lastEta.delete(orderId);
      }
    }
  }

  private trackInfo(orderId: string): Promise<TrackInfo | null> {
    return this.trackInfoOf.get(orderId);
  }

  /** Publishes the positions received since the last push (see FleetFeed.nextBatch). */
  private async pushFleet(): Promise<void> {
    const drivers = await this.fleet.nextBatch();
    if (drivers === null) return;
    await this.publisher
      .publishJson(
        'fleet',
        'fleet.positions',
        drivers,
        // At 30,000 drivers a batch is 1-2 MB every 2 s: an hour of them would be gigabytes.
        // The id is taken once logged: a batch whose bus publish failed is still replaced.
        {
          replaces: this.lastFleetEventId,
          onAppended: (id) => (this.lastFleetEventId = id),
        },
      )
      .catch((err: unknown) => this.log.warn({ err }, 'fleet push failed'));
  }
}
