import type { Order } from '@delivery/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useMerchant } from '../../api/catalog.ts';
import { driverKeys, useDeliveryStep } from '../../api/driver.ts';
import { orderKeys, useOrder, type OrderSummary } from '../../api/orders.ts';
import { MapView, type MapLine, type MapMarker } from '../../components/Map.tsx';
import { Button, ErrorNotice, StatusBadge } from '../../components/ui.tsx';
import { formatCents, shortId } from '../../lib/format.ts';
import type { LatLng } from '../../lib/geo.ts';
import { useChannel } from '../../realtime/useChannel.ts';
import { useDriver } from '../../stores/driver.ts';

const STEPS = ['To the store', 'Picked up', 'To the customer', 'Delivered'] as const;

/** Which of the four steps the order is at (0-3); 4 once delivered. */
export function stepOf(status: Order['status']): number {
  if (status === 'delivered') return 4;
  if (status === 'picked_up') return 2;
  return 0;
}

const KITCHEN: Partial<Record<Order['status'], string>> = {
  confirmed: 'The store has confirmed the order and starts on it soon.',
  preparing: 'The store is preparing the order.',
  ready_for_pickup: 'The order is ready: pick it up.',
};

/**
 * The delivery under way, as steps (to the store → picked up → to the customer → delivered),
 * with a map and the button for the next step. The order's channel keeps it current (the
 * kitchen marks it ready, the customer cancels); a refused step shows the server's message.
 */
export function DeliveryCard({ summary, me }: { summary: OrderSummary; me: LatLng | null }) {
  const queryClient = useQueryClient();
  const detail = useOrder(summary.id);
  const merchant = useMerchant(summary.merchantId);
  const step = useDeliveryStep();
  const setNotice = useDriver((s) => s.setNotice);
  const setJustDelivered = useDriver((s) => s.setJustDelivered);
  const order = detail.data ?? null;
  const status = order?.status ?? summary.status;

  useChannel(`order:${summary.id}`, {
    onEvent(event) {
      if (event.type !== 'order.status') return;
      const to = (event.data as { status?: unknown } | null)?.status;
      if (to === 'cancelled') setNotice(`Order ${shortId(summary.id)} was cancelled.`);
      void queryClient.invalidateQueries({ queryKey: orderKeys.detail(summary.id) });
      void queryClient.invalidateQueries({ queryKey: driverKeys.orders });
    },
    onSubscribed: () =>
      void queryClient.invalidateQueries({ queryKey: orderKeys.detail(summary.id) }),
  });

  const at = stepOf(status);
  const store = merchant.data ? { lat: merchant.data.lat, lng: merchant.data.lng } : null;
  const home = { lat: summary.deliveryLat, lng: summary.deliveryLng };
  const target = at < 2 ? store : home;

  const markers: MapMarker[] = [
    ...(store
      ? [{ id: 'store', kind: 'merchant' as const, ...store, title: summary.merchantName }]
      : []),
    { id: 'home', kind: 'destination', ...home, title: `Customer: ${summary.deliveryAddress}` },
    ...(me ? [{ id: 'me', kind: 'driver' as const, ...me, title: 'You' }] : []),
  ];
  const lines: MapLine[] = [
    ...(me && target
      ? [
          {
            id: 'next',
            points: at < 2 && store ? [me, store, home] : [me, home],
            color: '#2563eb',
            dashed: true,
          },
        ]
      : []),
  ];

  // The card leaves once the order is delivered; the promise still says so (to rate).
  const run = (which: 'picked-up' | 'delivered') =>
    step.mutateAsync({ orderId: summary.id, step: which }).then(
      (o) => o.status === 'delivered' && setJustDelivered(o.id),
      () => undefined, // shown from step.error
    );

  return (
    <section
      aria-label={`Delivery ${shortId(summary.id)}`}
      className="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm"
    >
      <div className="flex items-start justify-between gap-2">
        <div>
          <h2 className="text-lg font-semibold">
            {summary.merchantName}{' '}
            <span className="text-sm font-normal text-slate-500">{shortId(summary.id)}</span>
          </h2>
          <p className="text-sm text-slate-600">
            Earn {formatCents(summary.deliveryFeeCents + summary.tipCents)}
            {summary.tipCents > 0 && ` (tip ${formatCents(summary.tipCents)})`}
          </p>
        </div>
        <StatusBadge status={status} />
      </div>

      <ol aria-label="Delivery steps" className="grid grid-cols-4 gap-1 text-center text-xs">
        {STEPS.map((label, i) => {
          const state = i < at ? 'done' : i === at ? 'current' : 'todo';
          return (
            <li
              key={label}
              data-state={state}
              aria-current={state === 'current' ? 'step' : undefined}
              className="flex flex-col items-center gap-1"
            >
              <span
                aria-hidden
                className={`flex h-7 w-7 items-center justify-center rounded-full text-sm font-semibold ${
                  state === 'done'
                    ? 'bg-brand-600 text-white'
                    : state === 'current'
                      ? 'bg-blue-600 text-white ring-4 ring-blue-100'
                      : 'bg-slate-200 text-slate-500'
                }`}
              >
                {state === 'done' ? '✓' : i + 1}
              </span>
              <span className={state === 'todo' ? 'text-slate-400' : 'font-medium'}>
                {label}
                <span className="sr-only">
                  {state === 'done' ? ' (done)' : state === 'current' ? ' (now)' : ''}
                </span>
              </span>
            </li>
          );
        })}
      </ol>

      <div className="rounded-lg bg-slate-50 p-3 text-sm">
        {at < 2 ? (
          <>
            <p className="font-medium">
              Pick up at {summary.merchantName}
              {merchant.data && (
                <span className="block font-normal text-slate-600">{merchant.data.address}</span>
              )}
            </p>
            {KITCHEN[status] && <p className="mt-1 text-slate-700">{KITCHEN[status]}</p>}
          </>
        ) : (
          <p className="font-medium">
            Deliver to
            <span className="block font-normal text-slate-700">{summary.deliveryAddress}</span>
          </p>
        )}
        {summary.notes && <p className="mt-1 text-slate-600">Notes: {summary.notes}</p>}
        {order && order.items.length > 0 && (
          <p className="mt-1 text-slate-600">
            {order.items.map((i) => `${i.quantity} × ${i.name}`).join(', ')}
          </p>
        )}
      </div>

      <MapView
        label="Delivery route"
        center={home}
        zoom={15}
        markers={markers}
        lines={lines}
        fitKey={`${summary.id}:${at}:${store ? 1 : 0}:${me ? 1 : 0}`}
        className="h-60"
      />

      {step.error && <ErrorNotice error={step.error} />}
      {at < 2 ? (
        <Button
          className="w-full py-3 text-base"
          busy={step.isPending}
          onClick={() => void run('picked-up')}
        >
          Picked up
        </Button>
      ) : at === 2 ? (
        <Button
          className="w-full py-3 text-base"
          busy={step.isPending}
          onClick={() => void run('delivered')}
        >
          Delivered
        </Button>
      ) : null}
    </section>
  );
}
