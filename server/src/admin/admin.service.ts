import type { AdminDriversQuery, AdminOrdersQuery, Order } from '@delivery/contracts';
import type { Db } from '../db/db.ts';
import { decodeCursor, encodeCursor } from '../orders/cursor.ts';
import { ACTIVE_STATUSES } from '../orders/order-state.ts';
import { listOrders, toOrderSummary } from '../orders/orders.repository.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import { listDrivers, type AdminDriverRow } from './drivers.repository.ts';
import * as stats from './stats.repository.ts';

export type AdminService = ReturnType<typeof createAdminService>;

function toAdminDriver(r: AdminDriverRow) {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    vehicleType: r.vehicle_type,
    status: r.status,
    lat: r.current_lat,
    lng: r.current_lng,
    locationUpdatedAt: r.location_updated_at ? r.location_updated_at.toISOString() : null,
    activeOrders: r.active_orders,
    rating: r.rating,
    acceptanceRate: r.acceptance_rate,
    totalDeliveries: r.total_deliveries,
  };
}

/** One page of `limit` out of `limit + 1` fetched rows, and the cursor to the next one. */
function pageOf<R extends { id: string }>(rows: R[], limit: number, createdAt: (r: R) => Date) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    page,
    nextCursor: rows.length > limit && last ? encodeCursor(createdAt(last), last.id) : null,
  };
}

export function createAdminService({ db, orders }: { db: Db; orders: OrdersService }) {
  return {
    async stats() {
      const [byStatus, counts, matchSeconds, deliveryMinutes] = await Promise.all([
        stats.ordersByStatus(db),
        stats.counters(db),
        stats.matchSeconds(db),
        stats.deliveryMinutes(db),
      ]);
      const { ordersToday, onlineDrivers, needsAttention, acceptanceRate, offersPerAssignment } =
        counts;
      const activeOrders = ACTIVE_STATUSES.reduce((sum, s) => sum + byStatus[s], 0);
      return {
        ordersByStatus: byStatus,
        ordersToday,
        onlineDrivers,
        activeOrders,
        needsAttention,
        matchSeconds,
        deliveryMinutes,
        acceptanceRate,
        offersPerAssignment,
      };
    },

    async orders(q: AdminOrdersQuery) {
      const rows = await listOrders(db, {
        status: q.status,
        merchantId: q.merchantId,
        driverId: q.driverId,
        needsAttention: q.needsAttention,
        createdFrom: q.createdFrom,
        createdTo: q.createdTo,
        before: decodeCursor(q.cursor),
        limit: q.limit + 1,
      });
      const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.created_at);
      return { items: page.map(toOrderSummary), nextCursor };
    },

    async drivers(q: AdminDriversQuery) {
      const rows = await listDrivers(db, {
        status: q.status,
        before: decodeCursor(q.cursor),
        limit: q.limit + 1,
      });
      const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.created_ms);
      return { items: page.map(toAdminDriver), nextCursor };
    },

    cancel: (adminId: string, orderId: string, reason?: string): Promise<Order> =>
      orders.transition(orderId, 'cancelled', { id: adminId, role: 'admin' }, {}, reason),
  };
}
