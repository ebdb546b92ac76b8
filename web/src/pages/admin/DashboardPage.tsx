import { ORDER_STATUSES, type OrderStatus } from '@delivery/contracts';
import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { useAdminOrders, useAdminStats, type Stats } from '../../api/admin.ts';
import { BarChart } from '../../components/charts.tsx';
import { Card, ErrorNotice, Loading, PageTitle, StatusBadge } from '../../components/ui.tsx';
import { formatCents, formatTime, shortId, STATUS_LABEL } from '../../lib/format.ts';

/** Bar colours per status, matching the status badges' hues. */
export const STATUS_COLOR: Readonly<Record<OrderStatus, string>> = {
  pending: '#f59e0b',
  confirmed: '#0ea5e9',
  preparing: '#6366f1',
  ready_for_pickup: '#8b5cf6',
  picked_up: '#3b82f6',
  delivered: '#10b981',
  cancelled: '#94a3b8',
};

const seconds = (v: number | null) =>
  v === null ? '–' : `${v < 10 ? v.toFixed(1) : Math.round(v)} s`;
const minutes = (v: number | null) =>
  v === null ? '–' : `${v < 10 ? v.toFixed(1) : Math.round(v)} min`;
const percentiles = (p: Stats['matchSeconds'], fmt: (v: number | null) => string) =>
  (['p50', 'p90', 'p95'] as const).map((k) => ({
    label: k === 'p50' ? 'median (p50)' : k,
    value: p[k] ?? 0,
    display: fmt(p[k]),
    color: k === 'p50' ? '#059669' : k === 'p90' ? '#0ea5e9' : '#6366f1',
  }));

/** The operations dashboard: today's numbers and how matching and deliveries perform. */
export function DashboardPage() {
  const stats = useAdminStats();
  return (
    <div className="space-y-4">
      <PageTitle
        aside={
          <span className="text-sm text-slate-500">
            {stats.isFetching ? 'Refreshing…' : 'Refreshes every 15 s'}
          </span>
        }
      >
        Dashboard
      </PageTitle>
      {stats.isPending ? (
        <Loading what="the numbers" />
      ) : stats.error ? (
        <ErrorNotice error={stats.error} onRetry={() => void stats.refetch()} />
      ) : (
        <Dashboard stats={stats.data} />
      )}
    </div>
  );
}

function Stat({
  label,
  value,
  hint,
  tone = 'text-slate-900',
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  tone?: string;
}) {
  return (
    <Card>
      <p className="text-sm text-slate-600">{label}</p>
      <p className={`text-3xl font-semibold tabular-nums ${tone}`}>{value}</p>
      {hint && <div className="mt-1 text-xs text-slate-500">{hint}</div>}
    </Card>
  );
}

function Dashboard({ stats }: { stats: Stats }) {
  const byStatus = ORDER_STATUSES.map((s) => ({
    label: STATUS_LABEL[s],
    value: stats.ordersByStatus[s] ?? 0,
    color: STATUS_COLOR[s],
  }));
  const acceptance = stats.acceptanceRate;
  return (
    <>
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="Orders today" value={stats.ordersToday} />
        <Stat
          label="Active orders"
          value={stats.activeOrders}
          hint={
            <Link to="/admin/fleet" className="text-brand-700 underline">
              See them on the map
            </Link>
          }
        />
        <Stat label="Drivers online" value={stats.onlineDrivers} />
        <Stat
          label="Need attention"
          value={stats.needsAttention}
          tone={stats.needsAttention > 0 ? 'text-red-600' : 'text-slate-900'}
          hint={
            <Link
              to="/admin/orders"
              search={{ attention: true }}
              className="text-brand-700 underline"
            >
              Review stuck orders
            </Link>
          }
        />
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card>
          <BarChart title="Orders by status" bars={byStatus} empty="No orders yet." />
        </Card>
        <Card className="space-y-5">
          <BarChart
            title="Time to find a driver (from confirmation)"
            bars={percentiles(stats.matchSeconds, seconds)}
            empty="No driver assigned yet."
          />
          <BarChart
            title="Delivery time (placed to delivered)"
            bars={percentiles(stats.deliveryMinutes, minutes)}
            empty="Nothing delivered yet."
          />
        </Card>
        <Card>
          <h2 className="text-sm font-medium text-slate-700">Offer acceptance</h2>
          {acceptance === null ? (
            <p className="mt-2 text-sm text-slate-500">No offers answered yet.</p>
          ) : (
            <div className="mt-2">
              <p className="text-2xl font-semibold tabular-nums">{Math.round(acceptance * 100)}%</p>
              <div
                role="meter"
                aria-label="Offers accepted"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(acceptance * 100)}
                className="mt-2 h-3 overflow-hidden rounded-full bg-slate-100"
              >
                <div
                  className="h-full rounded-full bg-emerald-500"
                  style={{ width: `${Math.min(100, acceptance * 100)}%` }}
                />
              </div>
            </div>
          )}
          <p className="mt-3 text-sm text-slate-600">
            Offers per assignment:{' '}
            <span className="font-semibold tabular-nums">
              {stats.offersPerAssignment === null ? '–' : stats.offersPerAssignment.toFixed(2)}
            </span>
          </p>
        </Card>
        <LatestOrders />
      </div>
    </>
  );
}

const NO_FILTERS = {};

/** The newest orders at a glance (the first page of the orders table, shared with it). */
function LatestOrders() {
  const orders = useAdminOrders(NO_FILTERS, undefined);
  const items = orders.data?.items.slice(0, 6) ?? [];
  return (
    <Card>
      <div className="flex items-center justify-between">
        <h2 className="text-sm font-medium text-slate-700">Latest orders</h2>
        <Link to="/admin/orders" className="text-xs text-brand-700 underline">
          All orders
        </Link>
      </div>
      {orders.error ? (
        <div className="mt-2">
          <ErrorNotice error={orders.error} />
        </div>
      ) : orders.isPending ? (
        <p className="mt-2 text-sm text-slate-500">Loading…</p>
      ) : items.length === 0 ? (
        <p className="mt-2 text-sm text-slate-500">No orders yet.</p>
      ) : (
        <ul className="mt-2 divide-y divide-slate-100 text-sm">
          {items.map((o) => (
            <li key={o.id} className="flex items-center justify-between gap-2 py-1.5">
              <span className="min-w-0 truncate">
                <span className="text-slate-500 tabular-nums">
                  {formatTime(o.timestamps.createdAt)}
                </span>{' '}
                {o.merchantName} <span className="text-xs text-slate-400">{shortId(o.id)}</span>
              </span>
              <span className="flex shrink-0 items-center gap-2">
                <span className="tabular-nums">{formatCents(o.totalCents)}</span>
                <StatusBadge status={o.status} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
