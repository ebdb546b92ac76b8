import { Link } from '@tanstack/react-router';
import { useOrders } from '../../api/orders.ts';
import {
  Button,
  Empty,
  ErrorNotice,
  Loading,
  PageTitle,
  StatusBadge,
} from '../../components/ui.tsx';
import { formatCents, formatDateTime, shortId } from '../../lib/format.ts';

export function OrdersPage() {
  const orders = useOrders();
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="max-w-3xl">
      <PageTitle>Your orders</PageTitle>
      {orders.isPending ? (
        <Loading what="your orders" />
      ) : orders.error && items.length === 0 ? (
        <ErrorNotice error={orders.error} onRetry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="No orders yet">
          <Link to="/merchants" className="text-brand-700 underline">
            Find a shop nearby
          </Link>
        </Empty>
      ) : (
        <>
          <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
            {items.map((o) => (
              <li key={o.id}>
                <Link
                  to="/orders/$orderId"
                  params={{ orderId: o.id }}
                  className="flex items-center justify-between gap-3 px-4 py-3 hover:bg-slate-50"
                >
                  <div>
                    <p className="font-medium">
                      {o.merchantName}{' '}
                      <span className="text-xs font-normal text-slate-400">{shortId(o.id)}</span>
                    </p>
                    <p className="text-sm text-slate-500">
                      {formatDateTime(o.timestamps.createdAt)} · {o.deliveryAddress}
                    </p>
                  </div>
                  <div className="flex items-center gap-3">
                    <span className="text-sm tabular-nums">{formatCents(o.totalCents)}</span>
                    <StatusBadge status={o.status} />
                  </div>
                </Link>
              </li>
            ))}
          </ul>
          {orders.error && <ErrorNotice error={orders.error} />}
          {orders.hasNextPage && (
            <div className="mt-4 flex justify-center">
              <Button
                variant="secondary"
                busy={orders.isFetchingNextPage}
                onClick={() => void orders.fetchNextPage()}
              >
                Show older orders
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
