import type { Logger } from 'pino';
import type { Cache, GeoIndex } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { activeOrderIds } from '../drivers/drivers.repository.ts';
import { deliveryDistance, deliveryTime, etaError } from '../metrics/metrics.ts';
import type { TransitionListener } from '../orders/orders.service.ts';
import type { AppliedLocation } from '../drivers/location.service.ts';
import type { Clock } from '../platform/clock.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { etaMinutes, type EtaSettings } from './eta.ts';
import { findTrackInfo, type TrackInfo } from './tracking.repository.ts';

const CACHE_TTL_MS = 60_000;
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
  private fleetBatch = new Map<string, AppliedLocation>();
  private fleetTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly geo: GeoIndex,
    private readonly publisher: ChannelPublisher,
    private readonly clock: Clock,
    private readonly eta: EtaSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.fleetTimer = setInterval(() => void this.pushFleet(), FLEET_PUSH_EVERY_MS);
    this.fleetTimer.unref();
  }

  stop(): void {
    clearInterval(this.fleetTimer);
  }

  /**
   * Records the delivery time predicted at pickup, and on delivery how far off it was: the
   * design's accuracy goal (within 3 minutes, 90% of the time) is read off `etaError`.
   */
  readonly onStatusChange: TransitionListener = async (tx, { order, to }) => {
    if (to === 'picked_up') {
      const info = await findTrackInfo(tx, order.id);
      const live = order.driver_id ? await this.geo.get(order.driver_id) : null;
      const eta = info && this.computeEta(info, live ?? info.driverPosition);
      if (eta)
        await tx.query('UPDATE orders SET predicted_delivery_at = $2 WHERE id = $1', [
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
    tx.afterCommit(() => this.invalidate(order.id, [order.driver_id]));
  };

  /** Called for every applied position; never throws into the hot path. */
  onLocation(update: AppliedLocation): void {
    this.fleetBatch.set(update.driverId, update);
    this.pushToOrders(update).catch((err: unknown) =>
      this.log.warn({ err }, 'tracking push failed'),
    );
  }

  /** Forgets cached facts after a status change or assignment. */
  async invalidate(orderId: string, driverIds: Array<string | null>): Promise<void> {
    await this.cache.delete(`order-track:${orderId}`);
    for (const id of driverIds) if (id) await this.cache.delete(`driver-orders:${id}`);
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

  private async pushToOrders(u: AppliedLocation): Promise<void> {
    const now = this.clock.now();
    for (const orderId of await this.driverOrders(u.driverId)) {
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

  private async driverOrders(driverId: string): Promise<string[]> {
    const key = `driver-orders:${driverId}`;
    const cached = await this.cache.get(key);
    if (cached) return JSON.parse(cached) as string[];
    const ids = await activeOrderIds(this.db, driverId);
    await this.cache.set(key, JSON.stringify(ids), CACHE_TTL_MS);
    return ids;
  }

  private async trackInfo(orderId: string): Promise<TrackInfo | null> {
    const key = `order-track:${orderId}`;
    const cached = await this.cache.get(key);
    if (cached) return JSON.parse(cached) as TrackInfo;
    const info = await findTrackInfo(this.db, orderId);
    if (info) await this.cache.set(key, JSON.stringify(info), CACHE_TTL_MS);
    return info;
  }

  private async pushFleet(): Promise<void> {
    if (this.fleetBatch.size === 0) return;
    const batch = [...this.fleetBatch.values()];
    this.fleetBatch = new Map();
    await this.publisher
      .publish('fleet', 'fleet.positions', {
        drivers: batch.map((p) => ({
          driverId: p.driverId,
          lat: p.lat,
          lng: p.lng,
          heading: p.heading,
          recordedAt: new Date(p.recordedAt).toISOString(),
        })),
      })
      .catch((err: unknown) => this.log.warn({ err }, 'fleet push failed'));
  }
}
