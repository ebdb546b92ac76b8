import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useMerchantOrders } from '../../api/merchant.ts';
import { notificationKeys } from '../../api/notifications.ts';
import { orderKeys } from '../../api/orders.ts';
import { useChannel } from '../../realtime/useChannel.ts';
import { useMerchantInbox } from '../../stores/merchantInbox.ts';
import { useSession } from '../../stores/session.ts';

/**
 * The store's live feed (`merchant:<id>`), listened to on every merchant page so no new
 * order slips by while the merchant edits the menu: each status event refreshes the queue,
 * and new orders are marked to be highlighted. The tab title counts orders to confirm.
 */
export function useMerchantFeed() {
  const merchantId = useSession((s) => s.user?.merchantId ?? null);
  const queryClient = useQueryClient();
  const arrived = useMerchantInbox((s) => s.arrived);
  const refresh = () => queryClient.invalidateQueries({ queryKey: orderKeys.merchantQueue });

  const channel = useChannel(merchantId ? `merchant:${merchantId}` : null, {
    onEvent(event) {
      if (event.type === 'notification') {
        void queryClient.invalidateQueries({ queryKey: notificationKeys.list });
        return;
      }
      if (event.type !== 'order.status') return;
      const data = event.data as { orderId?: unknown; status?: unknown } | null;
      if (typeof data?.orderId !== 'string') return;
      if (data.status === 'pending') arrived(data.orderId);
      void refresh();
      void queryClient.invalidateQueries({ queryKey: orderKeys.detail(data.orderId) });
    },
    // Whatever happened before this subscription (or while disconnected) comes with a re-read.
    onSubscribed: () => void refresh(),
  });

  const orders = useMerchantOrders(Boolean(merchantId));
  const waiting = orders.data?.items.filter((o) => o.status === 'pending').length ?? 0;
  useEffect(() => {
    document.title = waiting ? `(${waiting}) New orders · Neckar Delivery` : 'Neckar Delivery';
    return () => {
      document.title = 'Neckar Delivery';
    };
  }, [waiting]);

  return channel;
}
