import {
  AdminDriverList,
  AdminStats,
  MerchantList,
  OrderList,
  OrderResponse,
  type OrderStatus,
} from '@delivery/contracts';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ACTIVE_STATUSES } from '../lib/format.ts';
import { request } from './client.ts';
import { orderKeys } from './orders.ts';

export type Stats = ReturnType<typeof AdminStats.parse>;
export type AdminDriver = ReturnType<typeof AdminDriverList.parse>['items'][number];
export type { OrderSummary } from './orders.ts';

export interface AdminOrderFilters {
  status?: OrderStatus | undefined;
  merchantId?: string | undefined;
  driverId?: string | undefined;
  needsAttention?: boolean | undefined;
  /** ISO date-times: created at or after / before. */
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
}

export const adminKeys = {
  all: ['admin'] as const,
  stats: ['admin', 'stats'] as const,
  orders: (filters: AdminOrderFilters, cursor: string | undefined) =>
    ['admin', 'orders', filters, cursor ?? null] as const,
  activeOrders: ['admin', 'orders', 'active'] as const,
  drivers: (status: string | undefined, cursor: string | undefined, limit: number) =>
    ['admin', 'drivers', status ?? 'all', cursor ?? null, limit] as const,
  merchants: ['admin', 'merchants'] as const,
};

export function useAdminStats() {
  return useQuery({
    queryKey: adminKeys.stats,
    queryFn: ({ signal }) => request('/admin/stats', AdminStats, { signal }),
    refetchInterval: 15_000,
  });
}

/** One page of `GET /admin/orders` with the filters; the previous page stays while loading. */
export function useAdminOrders(filters: AdminOrderFilters, cursor: string | undefined) {
  return useQuery({
    queryKey: adminKeys.orders(filters, cursor),
    queryFn: ({ signal }) =>
      request('/admin/orders', OrderList, {
        query: {
          limit: 25,
          cursor,
          status: filters.status,
          merchantId: filters.merchantId,
          driverId: filters.driverId,
          needsAttention: filters.needsAttention ? 'true' : undefined,
          createdFrom: filters.createdFrom,
          createdTo: filters.createdTo,
        },
        signal,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
}

/** Every order still under way (one request per active status), for the fleet map. */
export function useActiveOrders() {
  return useQuery({
    queryKey: adminKeys.activeOrders,
    queryFn: async ({ signal }) => {
      const pages = await Promise.all(
        ACTIVE_STATUSES.map((status) =>
          request('/admin/orders', OrderList, { query: { status, limit: 100 }, signal }),
        ),
      );
      return pages.flatMap((p) => p.items);
    },
    refetchInterval: 10_000,
  });
}

/** A page of drivers (the newest first); `limit` up to 200. */
export function useAdminDrivers(status?: 'online' | 'offline', cursor?: string, limit = 200) {
  return useQuery({
    queryKey: adminKeys.drivers(status, cursor, limit),
    queryFn: ({ signal }) =>
      request('/admin/drivers', AdminDriverList, { query: { status, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
}

/** Every store (for filters and the fleet map). */
export function useAllMerchants() {
  return useQuery({
    queryKey: adminKeys.merchants,
    queryFn: async ({ signal }) =>
      (await request('/merchants', MerchantList, { query: { limit: 100 }, signal })).items,
    staleTime: 5 * 60_000,
  });
}

function useOrderChanged() {
  const queryClient = useQueryClient();
  return (order: { id: string }) => {
    queryClient.setQueryData(orderKeys.detail(order.id), order);
    void queryClient.invalidateQueries({ queryKey: adminKeys.all });
  };
}

/** Takes an order from its driver: to `driverId`, or back to matching without one. */
export function useReassignOrder() {
  const changed = useOrderChanged();
  return useMutation({
    mutationFn: async ({
      orderId,
      driverId,
      reason,
    }: {
      orderId: string;
      driverId?: string | undefined;
      reason?: string | undefined;
    }) =>
      (
        await request(`/admin/orders/${orderId}/reassign`, OrderResponse, {
          method: 'POST',
          body: { ...(driverId ? { driverId } : {}), ...(reason ? { reason } : {}) },
        })
      ).order,
    onSuccess: changed,
  });
}

export function useAdminCancelOrder() {
  const changed = useOrderChanged();
  return useMutation({
    mutationFn: async ({ orderId, reason }: { orderId: string; reason?: string | undefined }) =>
      (
        await request(`/admin/orders/${orderId}/cancel`, OrderResponse, {
          method: 'POST',
          body: reason ? { reason } : {},
        })
      ).order,
    onSuccess: changed,
  });
}
