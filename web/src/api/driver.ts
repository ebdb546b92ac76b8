import type { CustomerRatingBody } from '@delivery/contracts';
import {
  DriverStatusResponse,
  EarningsResponse,
  OfferResponse,
  OrderList,
  OrderResponse,
  RatingsResponse,
  type GoOnlineBody,
  type Offer,
  type Order,
} from '@delivery/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from './client.ts';
import { orderKeys } from './orders.ts';

export type DriverStatus = ReturnType<typeof DriverStatusResponse.parse>['driver'];
export type Earnings = ReturnType<typeof EarningsResponse.parse>;
export type CustomerRating = ReturnType<typeof CustomerRatingBody.parse>;

export const driverKeys = {
  all: ['driver'] as const,
  status: ['driver', 'status'] as const,
  offer: ['driver', 'offer'] as const,
  orders: ['driver', 'orders'] as const,
  history: ['driver', 'orders', 'history'] as const,
  active: ['driver', 'orders', 'active'] as const,
  earnings: ['driver', 'earnings'] as const,
};

/** The statuses of an order a driver is still working on. */
export const DRIVER_ACTIVE = new Set<Order['status']>([
  'confirmed',
  'preparing',
  'ready_for_pickup',
  'picked_up',
]);

export function useDriverStatus() {
  return useQuery({
    queryKey: driverKeys.status,
    queryFn: async ({ signal }) =>
      (await request('/driver/status', DriverStatusResponse, { signal })).driver,
  });
}

export function useGoOnline() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (at: GoOnlineBody) =>
      (await request('/driver/go-online', DriverStatusResponse, { method: 'POST', body: at }))
        .driver,
    onSuccess: (driver) => {
      queryClient.setQueryData(driverKeys.status, driver);
      void queryClient.invalidateQueries({ queryKey: driverKeys.offer });
    },
  });
}

export function useGoOffline() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      (await request('/driver/go-offline', DriverStatusResponse, { method: 'POST' })).driver,
    onSuccess: (driver) => {
      queryClient.setQueryData(driverKeys.status, driver);
      queryClient.setQueryData(driverKeys.offer, null);
    },
  });
}

/** The driver's pending offer, or null (`GET /driver/offers`); live events keep it current. */
export function useCurrentOffer(enabled = true) {
  return useQuery({
    queryKey: driverKeys.offer,
    enabled,
    queryFn: async ({ signal }): Promise<Offer | null> =>
      (await request('/driver/offers', OfferResponse, { signal })).offer,
    staleTime: 0,
  });
}

export function useAcceptOffer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (offerId: string) =>
      (await request(`/driver/offers/${offerId}/accept`, OrderResponse, { method: 'POST' })).order,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(order.id), order);
      queryClient.setQueryData(driverKeys.offer, null);
      void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
      void queryClient.invalidateQueries({ queryKey: driverKeys.status });
    },
    // Too late (expired, taken back): whatever the server holds now is the truth.
    onError: () => void queryClient.invalidateQueries({ queryKey: driverKeys.offer }),
  });
}

export function useRejectOffer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (offerId: string) =>
      (await request(`/driver/offers/${offerId}/reject`, OfferResponse, { method: 'POST' })).offer,
    onSuccess: (offer) => queryClient.setQueryData(driverKeys.offer, offer),
    onError: () => void queryClient.invalidateQueries({ queryKey: driverKeys.offer }),
  });
}

/** The orders the driver is working on now, oldest assignment first. */
export function useActiveDeliveries(enabled = true) {
  return useQuery({
    queryKey: driverKeys.active,
    enabled,
    queryFn: async ({ signal }) => {
      const { items } = await request('/driver/orders', OrderList, {
        query: { limit: 50 },
        signal,
      });
      return items
        .filter((o) => DRIVER_ACTIVE.has(o.status))
        .sort((a, b) =>
          (a.timestamps.assignedAt ?? '').localeCompare(b.timestamps.assignedAt ?? ''),
        );
    },
    refetchInterval: 30_000,
  });
}

/** Every order the driver delivered or carries, newest first, a page at a time. */
export function useDriverHistory() {
  return useInfiniteQuery({
    queryKey: driverKeys.history,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      request('/driver/orders', OrderList, { query: { cursor: pageParam, limit: 20 }, signal }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useDriverEarnings() {
  return useQuery({
    queryKey: driverKeys.earnings,
    queryFn: ({ signal }) => request('/driver/earnings', EarningsResponse, { signal }),
  });
}

export type DeliveryStep = 'picked-up' | 'delivered';

export function useDeliveryStep() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ orderId, step }: { orderId: string; step: DeliveryStep }) =>
      (await request(`/driver/orders/${orderId}/${step}`, OrderResponse, { method: 'POST' })).order,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(order.id), order);
      void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
      void queryClient.invalidateQueries({ queryKey: driverKeys.status });
      if (order.status === 'delivered')
        void queryClient.invalidateQueries({ queryKey: driverKeys.earnings });
    },
  });
}

export function useRateCustomer(orderId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: CustomerRating) =>
      (
        await request(`/driver/orders/${orderId}/rating`, RatingsResponse, {
          method: 'POST',
          body,
        })
      ).ratings,
    onSuccess: (ratings) => queryClient.setQueryData(orderKeys.ratings(orderId), ratings),
  });
}
