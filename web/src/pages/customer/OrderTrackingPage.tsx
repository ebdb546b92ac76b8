import type { Order } from '@delivery/contracts';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useMerchant } from '../../api/catalog.ts';
import { useCancelOrder } from '../../api/orders.ts';
import { MapView, type MapLine, type MapMarker } from '../../components/Map.tsx';
import {
  Button,
  Card,
  ErrorNotice,
  Field,
  inputClass,
  Loading,
  StatusBadge,
} from '../../components/ui.tsx';
import { EtaCountdown } from '../../features/tracking/EtaCountdown.tsx';
import { OrderTimeline } from '../../features/tracking/OrderTimeline.tsx';
import { RatingForm } from '../../features/tracking/RatingForm.tsx';
import { useOrderTracking, type DriverPosition } from '../../features/tracking/useOrderTracking.ts';
import { formatCents, formatDateTime, shortId } from '../../lib/format.ts';
import type { LatLng } from '../../lib/geo.ts';

const CANCELLABLE = new Set(['pending', 'confirmed', 'preparing', 'ready_for_pickup']);
const VEHICLE: Record<string, string> = { bicycle: 'Bicycle', scooter: 'Scooter', car: 'Car' };

export function OrderTrackingPage({ orderId }: { orderId: string }) {
  const { order, timeline, driverPosition, eta, channel } = useOrderTracking(orderId);
  const merchant = useMerchant(order.data?.merchantId);

  if (order.isPending) return <Loading what="your order" />;
  if (order.error) return <ErrorNotice error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data;
  const active = o.status !== 'delivered' && o.status !== 'cancelled';

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <Link to="/orders" className="text-sm text-brand-700 underline">
            ← Your orders
          </Link>
          <h1 className="mt-1 text-2xl font-semibold tracking-tight">
            {o.merchantName}{' '}
            <span className="text-base font-normal text-slate-500">{shortId(o.id)}</span>
          </h1>
          <p className="text-sm text-slate-600">
            Placed {formatDateTime(o.timestamps.createdAt)} · to {o.deliveryAddress}
          </p>
        </div>
        <div className="flex items-center gap-2">
          {active && <LiveBadge state={channel.state} />}
          <StatusBadge status={o.status} />
        </div>
      </div>
      {channel.state === 'forbidden' && (
        <ErrorNotice error={new Error(channel.message ?? 'Live updates are not available.')} />
      )}

      <div className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <TrackingMap
            order={o}
            merchant={merchant.data ? { lat: merchant.data.lat, lng: merchant.data.lng } : null}
            driver={driverPosition}
          />
          {o.status === 'delivered' && <RatingForm order={o} />}
          <PriceCard order={o} />
        </div>
        <div className="space-y-4">
          {active && (
            <Card>
              {eta ? (
                <EtaCountdown eta={eta} />
              ) : (
                <p className="text-sm text-slate-600">
                  {o.status === 'pending'
                    ? 'Waiting for the store to confirm…'
                    : 'Estimating the arrival time…'}
                </p>
              )}
            </Card>
          )}
          <DriverCard order={o} />
          <Card>
            <h2 className="mb-3 font-semibold">Progress</h2>
            <OrderTimeline entries={timeline} />
            {o.cancelReason && (
              <p className="mt-3 text-sm text-slate-600">Reason: {o.cancelReason}</p>
            )}
          </Card>
          {CANCELLABLE.has(o.status) && <CancelOrder orderId={o.id} />}
        </div>
      </div>
    </div>
  );
}

function LiveBadge({ state }: { state: string }) {
  const live = state === 'live';
  return (
    <span
      className={`flex items-center gap-1 rounded-full px-2 py-0.5 text-xs ${live ? 'bg-emerald-50 text-emerald-700' : 'bg-slate-100 text-slate-600'}`}
    >
      <span
        aria-hidden
        className={`h-2 w-2 rounded-full ${live ? 'animate-pulse bg-emerald-500' : 'bg-slate-400'}`}
      />
      {live ? 'Live' : 'Connecting…'}
    </span>
  );
}

function TrackingMap({
  order,
  merchant,
  driver,
}: {
  order: Order;
  merchant: LatLng | null;
  driver: DriverPosition | null;
}) {
  const home = { lat: order.deliveryLat, lng: order.deliveryLng };
  const showDriver = driver && order.status !== 'delivered' && order.status !== 'cancelled';
  const markers: MapMarker[] = [
    ...(merchant
      ? [{ id: 'merchant', kind: 'merchant' as const, ...merchant, title: order.merchantName }]
      : []),
    { id: 'home', kind: 'destination', ...home, title: `Delivery: ${order.deliveryAddress}` },
    ...(showDriver
      ? [
          {
            id: 'driver',
            kind: 'driver' as const,
            lat: driver.lat,
            lng: driver.lng,
            title: `Driver${order.driver ? `: ${order.driver.name}` : ''}`,
          },
        ]
      : []),
  ];
  // Before pickup the driver rides to the store first; after it, straight to the door.
  const lines: MapLine[] = showDriver
    ? [
        {
          id: 'route',
          points:
            order.status !== 'picked_up' && merchant ? [driver, merchant, home] : [driver, home],
          color: '#2563eb',
          dashed: true,
        },
      ]
    : merchant
      ? [{ id: 'route', points: [merchant, home], color: '#047857', dashed: true }]
      : [];

  return (
    <MapView
      label="Delivery map"
      center={home}
      zoom={15}
      markers={markers}
      lines={lines}
      fitKey={`${merchant ? 'm' : ''}${showDriver ? 'd' : ''}`}
      className="h-96"
    />
  );
}

function DriverCard({ order }: { order: Order }) {
  if (!order.driver) {
    if (order.status === 'cancelled' || order.status === 'delivered') return null;
    return (
      <Card>
        <h2 className="font-semibold">Driver</h2>
        <p className="text-sm text-slate-600">
          {order.dispatchStatus === 'searching' || order.dispatchStatus === 'offered'
            ? 'Looking for a driver nearby…'
            : 'A driver is assigned once the store confirms.'}
        </p>
      </Card>
    );
  }
  const d = order.driver;
  return (
    <Card>
      <h2 className="font-semibold">Your driver</h2>
      <p className="text-lg">{d.name}</p>
      <p className="text-sm text-slate-600">
        {VEHICLE[d.vehicleType] ?? d.vehicleType}
        {d.rating !== null && ` · ★ ${d.rating.toFixed(1)}`}
      </p>
    </Card>
  );
}

function PriceCard({ order }: { order: Order }) {
  return (
    <Card>
      <h2 className="mb-2 font-semibold">Your order</h2>
      <ul className="divide-y divide-slate-100 text-sm">
        {order.items.map((item) => (
          <li key={item.id} className="flex justify-between py-1.5">
            <span>
              {item.quantity} × {item.name}
            </span>
            <span className="tabular-nums">{formatCents(item.lineTotalCents)}</span>
          </li>
        ))}
      </ul>
      <dl className="mt-2 space-y-1 border-t border-slate-200 pt-2 text-sm">
        <Row label="Subtotal" cents={order.subtotalCents} />
        <Row
          label={`Delivery fee (${order.distanceKm.toFixed(1)} km)`}
          cents={order.deliveryFeeCents}
        />
        <Row label="Tip" cents={order.tipCents} />
        <div className="flex justify-between border-t border-slate-200 pt-1 font-semibold">
          <dt>Total</dt>
          <dd className="tabular-nums">{formatCents(order.totalCents)}</dd>
        </div>
      </dl>
      {order.notes && <p className="mt-2 text-sm text-slate-600">Notes: {order.notes}</p>}
    </Card>
  );
}

function Row({ label, cents }: { label: string; cents: number }) {
  return (
    <div className="flex justify-between">
      <dt className="text-slate-600">{label}</dt>
      <dd className="tabular-nums">{formatCents(cents)}</dd>
    </div>
  );
}

function CancelOrder({ orderId }: { orderId: string }) {
  const cancel = useCancelOrder(orderId);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) {
    return (
      <Button variant="secondary" className="w-full" onClick={() => setOpen(true)}>
        Cancel order…
      </Button>
    );
  }
  return (
    <Card>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          cancel.mutate(reason.trim() || undefined);
        }}
      >
        <Field id="cancel-reason" label="Why are you cancelling? (optional)">
          <input
            id="cancel-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            className={inputClass}
            autoFocus
          />
        </Field>
        {cancel.error && <ErrorNotice error={cancel.error} />}
        <div className="flex gap-2">
          <Button type="submit" variant="danger" busy={cancel.isPending}>
            Cancel the order
          </Button>
          <Button variant="ghost" onClick={() => setOpen(false)}>
            Keep it
          </Button>
        </div>
      </form>
    </Card>
  );
}
