import { Offer } from '@delivery/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { driverKeys } from '../../api/driver.ts';
import { notificationKeys } from '../../api/notifications.ts';
import { shortId } from '../../lib/format.ts';
import { useChannel } from '../../realtime/useChannel.ts';
import { useDriver } from '../../stores/driver.ts';
import { useSession } from '../../stores/session.ts';

const idOf = (data: unknown, key: string): string | null => {
  const value = (data as Record<string, unknown> | null)?.[key];
  return typeof value === 'string' ? value : null;
};

/**
 * The driver's own channel (`driver:<id>`), listened to on every driver page: offers arrive,
 * expire or are withdrawn; an operator may take an order away. After each (re)subscription the
 * offer and the orders are read again, which covers anything the channel did not replay.
 */
export function useDriverFeed() {
  const driverId = useSession((s) => (s.user?.role === 'driver' ? s.user.id : null));
  const queryClient = useQueryClient();
  const setNotice = useDriver((s) => s.setNotice);
  const current = () => queryClient.getQueryData<Offer | null>(driverKeys.offer) ?? null;
  const refreshOffer = () => queryClient.invalidateQueries({ queryKey: driverKeys.offer });

  return useChannel(driverId ? `driver:${driverId}` : null, {
    onEvent(event) {
      switch (event.type) {
        case 'offer.new': {
          const offer = Offer.safeParse(event.data);
          if (offer.success) {
            queryClient.setQueryData(driverKeys.offer, offer.data);
            setNotice(null);
          } else void refreshOffer();
          return;
        }
        case 'offer.expired': {
          const offerId = idOf(event.data, 'offerId');
          if (current()?.id === offerId) {
            queryClient.setQueryData(driverKeys.offer, null);
            setNotice('The offer expired before you answered; it went to another driver.');
          }
          void refreshOffer();
          return;
        }
        case 'offer.cancelled': {
          const orderId = idOf(event.data, 'orderId');
          if (current()?.orderId === orderId) {
            queryClient.setQueryData(driverKeys.offer, null);
            setNotice('The offer was withdrawn: the order no longer needs a driver.');
          }
          void refreshOffer();
          return;
        }
        case 'order.assigned': {
          // An operator gave this driver an order directly (no offer to answer).
          const orderId = idOf(event.data, 'orderId');
          setNotice(`An operator assigned order ${orderId ? shortId(orderId) : ''} to you.`);
          void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
          void queryClient.invalidateQueries({ queryKey: driverKeys.status });
          return;
        }
        case 'order.unassigned': {
          const orderId = idOf(event.data, 'orderId');
          setNotice(
            `An operator gave order ${orderId ? shortId(orderId) : ''} to another driver; you no longer deliver it.`,
          );
          void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
          void queryClient.invalidateQueries({ queryKey: driverKeys.status });
          return;
        }
        case 'notification':
          void queryClient.invalidateQueries({ queryKey: notificationKeys.list });
          return;
      }
    },
    onSubscribed: () => {
      void refreshOffer();
      void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
    },
  });
}
