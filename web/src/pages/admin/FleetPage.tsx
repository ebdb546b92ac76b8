import { useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useRef, useState } from 'react';
import {
  adminKeys,
  useActiveOrders,
  useAdminDrivers,
  useAllMerchants,
  type OrderSummary,
} from '../../api/admin.ts';
import { MapView, type MapLine, type MapMarker } from '../../components/Map.tsx';
import { Card, ErrorNotice, Loading, PageTitle, StatusBadge } from '../../components/ui.tsx';
import { formatTime, shortId } from '../../lib/format.ts';
import { HEIDELBERG, type LatLng } from '../../lib/geo.ts';
import { useNow } from '../../lib/useNow.ts';
import { useChannel } from '../../realtime/useChannel.ts';

interface LivePosition extends LatLng {
  heading: number | null;
  recordedAt: string;
  /** When this browser got it: drivers silent for a while drop off the map. */
  seenAt: number;
}

interface Alert {
  orderId: string;
  reason: string;
  at: string;
}

/** A driver that reported within this window counts as on the road even before the list says so. */
const LIVE_WINDOW_MS = 30_000;

function parsePositions(
  data: unknown,
): { driverId: string; lat: number; lng: number; heading: number | null; recordedAt: string }[] {
  const drivers = (data as { drivers?: unknown } | null)?.drivers;
  if (!Array.isArray(drivers)) return [];
  return drivers.flatMap((d: unknown) => {
    const r = d as Record<string, unknown>;
    return typeof r.driverId === 'string' && typeof r.lat === 'number' && typeof r.lng === 'number'
      ? [
          {
            driverId: r.driverId,
            lat: r.lat,
            lng: r.lng,
            heading: typeof r.heading === 'number' ? r.heading : null,
            recordedAt: typeof r.recordedAt === 'string' ? r.recordedAt : '',
          },
        ]
      : [];
  });
}

/**
 * Every online driver and every order under way on one map. The driver list and the orders come
 * over HTTP; the `fleet` channel moves the drivers (`fleet.positions` every 2 s) and flags orders
 * that need an operator (`order.needs_attention`).
 */
export function FleetPage() {
  const queryClient = useQueryClient();
  const drivers = useAdminDrivers('online');
  const orders = useActiveOrders();
  const merchants = useAllMerchants();
  const [live, setLive] = useState<ReadonlyMap<string, LivePosition>>(new Map());
  const [alerts, setAlerts] = useState<readonly Alert[]>([]);
  const lastListRefresh = useRef(0);
  const now = useNow(5_000);

  const channel = useChannel('fleet', {
    onEvent(event) {
      if (event.type === 'fleet.positions') {
        const batch = parsePositions(event.data);
        if (batch.length === 0) return;
        const at = Date.now();
        setLive((prev) => {
          const next = new Map(prev);
          for (const p of batch) {
            const old = next.get(p.driverId);
            if (old && old.recordedAt > p.recordedAt) continue;
            next.set(p.driverId, { ...p, seenAt: at });
          }
          return next;
        });
        // A driver the list does not know yet went online: read the list again (at most every 5 s).
        const known = new Set(drivers.data?.items.map((d) => d.id));
        if (batch.some((p) => !known.has(p.driverId)) && at - lastListRefresh.current > 5_000) {
          lastListRefresh.current = at;
          void queryClient.invalidateQueries({ queryKey: ['admin', 'drivers'] });
        }
        return;
      }
      if (event.type === 'order.needs_attention') {
        const data = event.data as { orderId?: unknown; reason?: unknown } | null;
        if (typeof data?.orderId !== 'string') return;
        const alert = {
          orderId: data.orderId,
          reason: typeof data.reason === 'string' ? data.reason : 'needs attention',
          at: event.at,
        };
        setAlerts((prev) =>
          [alert, ...prev.filter((a) => a.orderId !== alert.orderId)].slice(0, 20),
        );
        void queryClient.invalidateQueries({ queryKey: adminKeys.activeOrders });
        void queryClient.invalidateQueries({ queryKey: adminKeys.stats });
      }
    },
    onSubscribed: () => {
      void queryClient.invalidateQueries({ queryKey: ['admin', 'drivers'] });
      void queryClient.invalidateQueries({ queryKey: adminKeys.activeOrders });
    },
  });

  if (drivers.isPending || orders.isPending) return <Loading what="the fleet" />;
  if (drivers.error)
    return <ErrorNotice error={drivers.error} onRetry={() => void drivers.refetch()} />;
  if (orders.error)
    return <ErrorNotice error={orders.error} onRetry={() => void orders.refetch()} />;

  const names = new Map(drivers.data.items.map((d) => [d.id, d]));
  const positions = new Map<string, LatLng>();
  for (const d of drivers.data.items) {
    const p = live.get(d.id);
    if (p) positions.set(d.id, p);
    else if (d.lat !== null && d.lng !== null) positions.set(d.id, { lat: d.lat, lng: d.lng });
  }
  for (const [id, p] of live) {
    if (!positions.has(id) && now - p.seenAt < LIVE_WINDOW_MS) positions.set(id, p);
  }
  const stores = new Map((merchants.data ?? []).map((m) => [m.id, m]));
  const activeOrders = orders.data;
  const attention = activeOrders.filter((o) => o.needsAttention);
  const busyStores = new Set(activeOrders.map((o) => o.merchantId));

  const markers: MapMarker[] = [
    ...[...busyStores].flatMap((id) => {
      const m = stores.get(id);
      return m
        ? [{ id: `m:${id}`, kind: 'merchant' as const, lat: m.lat, lng: m.lng, title: m.name }]
        : [];
    }),
    ...activeOrders.map((o): MapMarker => ({
      id: `o:${o.id}`,
      kind: 'destination',
      lat: o.deliveryLat,
      lng: o.deliveryLng,
      active: o.needsAttention,
      title: `Order ${shortId(o.id)} (${o.status.replaceAll('_', ' ')}) to ${o.deliveryAddress}${o.needsAttention ? ', needs attention' : ''}`,
    })),
    ...[...positions].map(([id, p]): MapMarker => {
      const d = names.get(id);
      return {
        id: `d:${id}`,
        kind: 'driver',
        lat: p.lat,
        lng: p.lng,
        title: d
          ? `${d.name} (${d.vehicleType}, ${d.activeOrders} active)`
          : `Driver ${shortId(id)}`,
      };
    }),
  ];
  const lines: MapLine[] = activeOrders.flatMap((o: OrderSummary): MapLine[] => {
    const home = { lat: o.deliveryLat, lng: o.deliveryLng };
    const store = stores.get(o.merchantId);
    const driver = o.driverId ? positions.get(o.driverId) : undefined;
    if (driver) {
      const points =
        o.status === 'picked_up' || !store
          ? [driver, home]
          : [driver, { lat: store.lat, lng: store.lng }, home];
      return [{ id: o.id, points, color: '#2563eb' }];
    }
    return store
      ? [
          {
            id: o.id,
            points: [{ lat: store.lat, lng: store.lng }, home],
            color: o.needsAttention ? '#dc2626' : '#94a3b8',
            dashed: true,
          },
        ]
      : [];
  });

  return (
    <div className="space-y-4">
      <PageTitle
        aside={
          <span className="flex items-center gap-2 text-sm text-slate-600">
            <span
              aria-hidden
              className={`h-2 w-2 rounded-full ${channel.state === 'live' ? 'animate-pulse bg-emerald-500' : 'bg-slate-400'}`}
            />
            {channel.state === 'live'
              ? 'Live'
              : channel.state === 'forbidden'
                ? 'Live updates refused'
                : 'Connecting…'}
          </span>
        }
      >
        Fleet
      </PageTitle>
      <div className="grid gap-4 lg:grid-cols-4">
        <div className="lg:col-span-3">
          <MapView
            label="Fleet map"
            center={HEIDELBERG}
            zoom={14}
            markers={markers}
            lines={lines}
            fitKey={`${positions.size}:${activeOrders.length}`}
            className="h-[34rem]"
          />
          <p className="mt-2 flex flex-wrap gap-4 text-xs text-slate-600">
            <span>
              <span className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-blue-600" /> driver
            </span>
            <span>
              <span className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-emerald-700" /> store
              with orders
            </span>
            <span>
              <span className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-red-600" /> delivery
              address
            </span>
            <span>
              <span className="mr-1 inline-block h-2.5 w-2.5 rounded-full bg-amber-500" /> needs
              attention
            </span>
          </p>
        </div>
        <div className="space-y-4">
          <Card>
            <dl className="grid grid-cols-2 gap-2 text-center">
              <div>
                <dt className="text-xs text-slate-500">Drivers online</dt>
                <dd className="text-2xl font-semibold tabular-nums" data-testid="fleet-drivers">
                  {positions.size}
                </dd>
              </div>
              <div>
                <dt className="text-xs text-slate-500">Active orders</dt>
                <dd className="text-2xl font-semibold tabular-nums" data-testid="fleet-orders">
                  {activeOrders.length}
                </dd>
              </div>
            </dl>
          </Card>
          <Card>
            <h2 className="font-semibold">Needs attention</h2>
            {attention.length === 0 && alerts.length === 0 ? (
              <p className="mt-1 text-sm text-slate-500">Nothing stuck right now.</p>
            ) : (
              <ul className="mt-2 space-y-2 text-sm">
                {alerts.map((a) => (
                  <li
                    key={`a:${a.orderId}`}
                    className="rounded border border-red-200 bg-red-50 px-2 py-1"
                  >
                    <span className="font-medium">{shortId(a.orderId)}</span>: {a.reason}{' '}
                    <span className="text-xs text-slate-500">({formatTime(a.at)})</span>
                  </li>
                ))}
                {attention
                  .filter((o) => !alerts.some((a) => a.orderId === o.id))
                  .map((o) => (
                    <li key={o.id} className="flex items-center justify-between gap-2">
                      <span>
                        {shortId(o.id)} · {o.merchantName}
                      </span>
                      <StatusBadge status={o.status} />
                    </li>
                  ))}
              </ul>
            )}
            <Link
              to="/admin/orders"
              search={{ attention: true }}
              className="mt-3 inline-block text-sm text-brand-700 underline"
            >
              Reassign or cancel in Orders
            </Link>
          </Card>
          <Card>
            <h2 className="font-semibold">On the road</h2>
            {drivers.data.items.length === 0 ? (
              <p className="mt-1 text-sm text-slate-500">No driver is online.</p>
            ) : (
              <ul className="mt-1 max-h-64 space-y-1 overflow-auto text-sm">
                {drivers.data.items.map((d) => (
                  <li key={d.id} className="flex justify-between gap-2">
                    <span className="truncate">{d.name}</span>
                    <span className="shrink-0 text-slate-500">
                      {d.vehicleType} · {d.activeOrders} active
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      </div>
    </div>
  );
}
