import type { CreateOrderBody } from '@delivery/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { orderKeys, placeOrder, type PlacedOrder } from '../../api/orders.ts';
import { useCart } from '../../stores/cart.ts';

/**
 * Places the cart's order. The idempotency key belongs to the checkout attempt, not to the
 * click: every submit of the same cart, including a retry after a network error or a second
 * click, sends the same key, so the server makes at most one order. Placing the order (or
 * changing the cart) ends the attempt; the next checkout gets a new key.
 */
export function usePlaceOrder(merchantId: string) {
  const queryClient = useQueryClient();
  const inFlight = useRef(false);
  const mutation = useMutation({
    mutationFn: (body: CreateOrderBody): Promise<PlacedOrder> =>
      placeOrder(body, useCart.getState().checkoutKey(merchantId)),
    onSuccess: ({ order }) => {
      useCart.getState().setLastDelivery({
        address: order.deliveryAddress,
        lat: order.deliveryLat,
        lng: order.deliveryLng,
      });
      queryClient.setQueryData(orderKeys.detail(order.id), order);
      void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
    },
  });

  /**
   * Submits unless a submit is already on its way (a double click sends one request). Once the
   * order is placed, `onPlaced` runs, then the cart is emptied, which ends the attempt.
   */
  const submit = async (body: CreateOrderBody, onPlaced: (placed: PlacedOrder) => void) => {
    if (inFlight.current) return;
    inFlight.current = true;
    let placed: PlacedOrder;
    try {
      placed = await mutation.mutateAsync(body);
    } catch {
      return; // The error is on `mutation.error`, shown by the form.
    } finally {
      inFlight.current = false;
    }
    onPlaced(placed);
    useCart.getState().completeCheckout(merchantId);
  };

  return { ...mutation, submit };
}
