import {
  OrderList,
  OrderResponse,
  RatingsResponse,
  type CreateOrderBody,
  type Order,
  type OrderStatus,
  type RatingBody,
} from '@delivery/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { send, request } from './client.ts';

/** An entry of the order lists (`OrderSummary`: an order without items, driver and ETA). */
export type OrderSummary = ReturnType<typeof OrderList.parse>['items'][number];

export const orderKeys = {
  all: ['orders'] as const,
  list: (status?: OrderStatus) => ['orders', 'list', status ?? 'all'] as const,
  detail: (id: string) => ['orders', 'detail', id] as const,
  ratings: (id: string) => ['orders', 'ratings', id] as const,
  merchantQueue: ['merchant-orders'] as const,
};

export interface PlacedOrder {
  order: Order;
  /** The server answered from its idempotency record: this key had already placed the order. */
  replayed: boolean;
}

/** `POST /orders` with the checkout's idempotency key (`X-Idempotency-Key`). */
export async function placeOrder(body: CreateOrderBody, key: string): Promise<PlacedOrder> {
  const res = await send('/orders', OrderResponse, {
    method: 'POST',
    body,
    headers: { 'x-idempotency-key': key },
  });
  return { order: res.data.order, replayed: res.headers.get('idempotent-replayed') === 'true' };
}

export function useOrders(status?: OrderStatus) {
  return useInfiniteQuery({
    queryKey: orderKeys.list(status),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      request('/orders', OrderList, { query: { status, cursor: pageParam, limit: 20 }, signal }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useOrder(id: string, enabled = true) {
  return useQuery({
    queryKey: orderKeys.detail(id),
    enabled,
    queryFn: async ({ signal }) =>
      (await request(`/orders/${id}`, OrderResponse, { signal })).order,
  });
}

export function useCancelOrder(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (reason?: string) =>
      (
        await request(`/orders/${id}/cancel`, OrderResponse, {
          method: 'POST',
          body: reason ? { reason } : {},
        })
      ).order,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(id), order);
      void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
    },
  });
}

export function useOrderRatings(id: string, enabled: boolean) {
  return useQuery({
    queryKey: orderKeys.ratings(id),
    enabled,
    queryFn: async ({ signal }) =>
      (await request(`/orders/${id}/ratings`, RatingsResponse, { signal })).ratings,
  });
}

export function useRateOrder(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: RatingBody) =>
      (await request(`/orders/${id}/rating`, RatingsResponse, { method: 'POST', body })).ratings,
    onSuccess: (ratings) => queryClient.setQueryData(orderKeys.ratings(id), ratings),
  });
}
