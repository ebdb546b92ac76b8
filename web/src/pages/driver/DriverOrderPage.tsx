import { Link } from '@tanstack/react-router';
import { useOrder } from '../../api/orders.ts';
import { Card, ErrorNotice, Loading, StatusBadge } from '../../components/ui.tsx';
import { RateCustomerForm } from '../../features/driver/RateCustomerForm.tsx';
import { formatCents, formatDateTime, shortId } from '../../lib/format.ts';

/** One of the driver's orders: what it was, what it paid, and the customer's rating. */
export function DriverOrderPage({ orderId }: { orderId: string }) {
  const order = useOrder(orderId);
  if (order.isPending) return <Loading what="the order" />;
  if (order.error) return <ErrorNotice error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data;
  const steps: [string, string | null][] = [
    ['Placed', o.timestamps.createdAt],
    ['Assigned to you', o.timestamps.assignedAt],
    ['Picked up', o.timestamps.pickedUpAt],
    ['Delivered', o.timestamps.deliveredAt],
    ['Cancelled', o.timestamps.cancelledAt],
  ];
  return (
    <div className="mx-auto max-w-md space-y-4">
      <div>
        <Link to="/driver/earnings" className="text-sm text-brand-700 underline">
          ← Earnings
        </Link>
        <h1 className="mt-1 flex items-center justify-between gap-2 text-2xl font-semibold">
          <span>
            {o.merchantName}{' '}
            <span className="text-base font-normal text-slate-500">{shortId(o.id)}</span>
          </span>
          <StatusBadge status={o.status} />
        </h1>
      </div>
      <Card>
        <dl className="space-y-1 text-sm">
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600">Delivered to</dt>
            <dd className="text-right">{o.deliveryAddress}</dd>
          </div>
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600">Distance</dt>
            <dd>{o.distanceKm.toFixed(1)} km</dd>
          </div>
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600">You earn (fee + tip)</dt>
            <dd className="font-semibold tabular-nums">
              {formatCents(o.deliveryFeeCents + o.tipCents)}
            </dd>
          </div>
        </dl>
        <ul className="mt-3 space-y-0.5 border-t border-slate-100 pt-2 text-sm">
          {steps.map(
            ([label, at]) =>
              at && (
                <li key={label} className="flex justify-between">
                  <span className="text-slate-600">{label}</span>
                  <span>{formatDateTime(at)}</span>
                </li>
              ),
          )}
        </ul>
      </Card>
      {o.status === 'delivered' && <RateCustomerForm orderId={o.id} />}
    </div>
  );
}
