import { DriverLocationEvent, EtaEvent, OrderStatus, type Order } from '@delivery/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { notificationKeys } from '../../api/notifications.ts';
import { orderKeys, useOrder } from '../../api/orders.ts';
import { useChannel } from '../../realtime/useChannel.ts';
import { addLiveStep, buildTimeline, type LiveStep } from './timeline.ts';

export interface DriverPosition {
  lat: number;
  lng: number;
  heading: number | null;
  at: string;
}

export interface Eta {
  minutes: number;
  at: string;
}

/**
 * Everything the tracking page shows about one order: the order over HTTP, kept current by
 * the `order:<id>` channel (status, driver position, ETA). After a reconnect the channel
 * replays what was missed and the order is read again, so nothing is lost or doubled.
 */
export function useOrderTracking(orderId: string) {
  const queryClient = useQueryClient();
  const order = useOrder(orderId);
  const [live, setLive] = useState<readonly LiveStep[]>([]);
  const [driver, setDriver] = useState<DriverPosition | null>(null);
  const [liveEta, setLiveEta] = useState<Eta | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: orderKeys.detail(orderId) });

  const channel = useChannel(`order:${orderId}`, {
    onEvent(event) {
      switch (event.type) {
        case 'order.status': {
          setLive((steps) => addLiveStep(steps, event));
          const status = OrderStatus.safeParse((event.data as { status?: unknown }).status);
          if (status.success) {
            queryClient.setQueryData<Order>(orderKeys.detail(orderId), (o) =>
              o ? { ...o, status: status.data } : o,
            );
          }
          void refresh();
          void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
          return;
        }
        case 'order.assigned':
          setLive((steps) => addLiveStep(steps, event));
          void refresh();
          return;
        case 'order.driver_location': {
          const p = DriverLocationEvent.safeParse(event.data);
          if (p.success) {
            const { lat, lng, heading, recordedAt } = p.data;
            setDriver((d) => (d && d.at > recordedAt ? d : { lat, lng, heading, at: recordedAt }));
          }
          return;
        }
        case 'order.eta': {
          const p = EtaEvent.safeParse(event.data);
          if (p.success) setLiveEta({ minutes: p.data.minutes, at: p.data.at });
          return;
        }
        case 'notification':
          void queryClient.invalidateQueries({ queryKey: notificationKeys.list });
          return;
      }
    },
    // Anything between the first read and the subscription, or missed while disconnected
    // beyond the replay, comes with a re-read.
    onSubscribed: () => void refresh(),
  });

  const data = order.data;
  const timeline = data ? buildTimeline(data, live) : [];
  const driverPosition =
    driver ??
    (data?.driver?.lat != null && data.driver.lng != null
      ? { lat: data.driver.lat, lng: data.driver.lng, heading: null, at: '' }
      : null);
  // The newest prediction wins: a live one, else the one read with the order.
  const eta = liveEta ?? data?.eta ?? null;

  return { order, timeline, driverPosition, eta, channel };
}
