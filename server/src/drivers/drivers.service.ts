import type { GoOnlineBody, LocationBody, OrdersQuery } from '@delivery/contracts';
import type { GeoIndex } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import type { DispatchService } from '../dispatch/dispatch.service.ts';
import { DomainError, notFound } from '../errors.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { Clock } from '../platform/clock.ts';
import { untrackable } from '../platform/geo.ts';
import * as repo from './drivers.repository.ts';
import { DRIVER_GEO_TTL_MS, type LocationService } from './location.service.ts';

export interface DriversDeps {
  db: Db;
  geo: GeoIndex;
  clock: Clock;
  location: LocationService;
  dispatch: DispatchService;
  orders: OrdersService;
}

export type DriversService = ReturnType<typeof createDriversService>;

export function createDriversService({ db, geo, clock, location, dispatch, orders }: DriversDeps) {
  async function status(driverId: string) {
    const d = await repo.findDriver(db, driverId);
    if (!d) throw notFound('Driver profile');
    const live = await geo.get(driverId);
    return {
      id: d.id,
      status: d.status,
      vehicleType: d.vehicle_type,
      lat: live?.lat ?? d.current_lat,
      lng: live?.lng ?? d.current_lng,
      activeOrders: d.active_orders,
    };
  }

  return {
    status,

    async goOnline(driverId: string, at: GoOnlineBody) {
      const now = clock.now();
      const refused = untrackable(at);
      if (refused) throw new DomainError('LOCATION_REJECTED', refused);
      await repo.setDriverStatus(db, driverId, 'online', at);
      await geo.set(driverId, { ...at, at: now }, DRIVER_GEO_TTL_MS);
      location.reset(driverId, { ...at, at: now });
      dispatch.kick();
      return status(driverId);
    },

    /** Assigned orders stay assigned; a pending offer is withdrawn and no new one comes. */
    async goOffline(driverId: string) {
      await repo.setDriverStatus(db, driverId, 'offline');
      await dispatch.withdrawOffers(driverId);
      await geo.remove(driverId);
      return status(driverId);
    },

    async updateLocation(driverId: string, body: LocationBody) {
      const result = await location.ingest(driverId, body);
      if (!result.accepted)
        throw new DomainError('LOCATION_REJECTED', result.reason ?? 'location rejected');
      return result;
    },

    listOrders: (driverId: string, q: OrdersQuery) => orders.listForDriver(driverId, q),

    pickedUp: (driverId: string, orderId: string) =>
      orders.transition(orderId, 'picked_up', { id: driverId, role: 'driver' }, { driverId }),

    delivered: (driverId: string, orderId: string) =>
      orders.transition(orderId, 'delivered', { id: driverId, role: 'driver' }, { driverId }),

    /** Earnings per day and per delivered order (delivery fee plus tip). */
    async earnings(driverId: string) {
      const { rows } = await db.query<{
        id: string;
        delivered_at: Date;
        cents: number;
        merchant_name: string;
      }>(
        `SELECT o.id, o.delivered_at, o.delivery_fee_cents + o.tip_cents AS cents, m.name AS merchant_name
         FROM orders o JOIN merchants m ON m.id = o.merchant_id
         WHERE o.driver_id = $1 AND o.status = 'delivered'
         ORDER BY o.delivered_at DESC LIMIT 500`,
        [driverId],
      );
      const days = new Map<string, { day: string; deliveries: number; earningsCents: number }>();
      for (const r of rows) {
        const day = r.delivered_at.toISOString().slice(0, 10);
        const d = days.get(day) ?? { day, deliveries: 0, earningsCents: 0 };
        d.deliveries += 1;
        d.earningsCents += r.cents;
        days.set(day, d);
      }
      return {
        totalCents: rows.reduce((sum, r) => sum + r.cents, 0),
        days: [...days.values()],
        orders: rows.map((r) => ({
          orderId: r.id,
          deliveredAt: r.delivered_at.toISOString(),
          earningsCents: r.cents,
          merchantName: r.merchant_name,
        })),
      };
    },
  };
}
