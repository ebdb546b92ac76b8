import { OrderList, OrderResponse, type OrderStatus } from '@delivery/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from './client.ts';
import { orderKeys } from './orders.ts';

/** The store's orders, newest first (`GET /merchant/orders`). */
export function useMerchantOrders(enabled = true) {
  return useQuery({
    queryKey: orderKeys.merchantQueue,
    enabled,
    queryFn: ({ signal }) =>
      request('/merchant/orders', OrderList, { query: { limit: 100 }, signal }),
    refetchInterval: 60_000,
  });
}

export type MerchantAction = 'confirm' | 'reject' | 'preparing' | 'ready';

export const ACTION_TARGET: Readonly<Record<MerchantAction, OrderStatus>> = {
  confirm: 'confirmed',
  reject: 'cancelled',
  preparing: 'preparing',
  ready: 'ready_for_pickup',
};

export function useMerchantOrderAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({
      orderId,
      action,
      reason,
    }: {
      orderId: string;
      action: MerchantAction;
      reason?: string;
    }) =>
      (
        await request(`/merchant/orders/${orderId}/${action}`, OrderResponse, {
          method: 'POST',
          body: reason ? { reason } : {},
        })
      ).order,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(order.id), order);
      void queryClient.invalidateQueries({ queryKey: orderKeys.merchantQueue });
    },
  });
}
