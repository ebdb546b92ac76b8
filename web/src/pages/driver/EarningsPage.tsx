import { Link } from '@tanstack/react-router';
import { useDriverEarnings, useDriverHistory } from '../../api/driver.ts';
import { ColumnChart } from '../../components/charts.tsx';
import {
  Button,
  Card,
  Empty,
  ErrorNotice,
  Loading,
  PageTitle,
  StatusBadge,
} from '../../components/ui.tsx';
import { formatCents, formatDateTime, shortId } from '../../lib/format.ts';

const dayLabel = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

/** What the driver earned (per day and per delivery) and every order it carried. */
export function EarningsPage() {
  const earnings = useDriverEarnings();
  const history = useDriverHistory();
  const orders = history.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <PageTitle>Earnings</PageTitle>
      {earnings.isPending ? (
        <Loading what="your earnings" />
      ) : earnings.error ? (
        <ErrorNotice error={earnings.error} onRetry={() => void earnings.refetch()} />
      ) : (
        <div className="grid gap-4 sm:grid-cols-3">
          <Card>
            <p className="text-sm text-slate-600">Total</p>
            <p className="text-3xl font-semibold tabular-nums" data-testid="earnings-total">
              {formatCents(earnings.data.totalCents)}
            </p>
            <p className="text-xs text-slate-500">
              {earnings.data.orders.length} deliveries · delivery fees and tips
            </p>
          </Card>
          <Card className="sm:col-span-2">
            <ColumnChart
              title="Per day (last 7 days with deliveries)"
              empty="No deliveries yet."
              bars={earnings.data.days
                .slice(0, 7)
                .reverse()
                .map((d) => ({
                  label: dayLabel.format(new Date(`${d.day}T12:00:00Z`)),
                  value: d.earningsCents,
                  display: formatCents(d.earningsCents),
                }))}
            />
          </Card>
        </div>
      )}

      <section>
        <h2 className="mb-2 text-lg font-semibold">Your deliveries</h2>
        {history.isPending ? (
          <Loading what="your deliveries" />
        ) : history.error && orders.length === 0 ? (
          <ErrorNotice error={history.error} onRetry={() => void history.refetch()} />
        ) : orders.length === 0 ? (
          <Empty title="No deliveries yet">Accepted offers show up here.</Empty>
        ) : (
          <>
            <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
              {orders.map((o) => (
                <li key={o.id}>
                  <Link
                    to="/driver/orders/$orderId"
                    params={{ orderId: o.id }}
                    className="flex items-center justify-between gap-3 px-4 py-3 hover:bg-slate-50"
                  >
                    <div className="min-w-0">
                      <p className="truncate font-medium">
                        {o.merchantName}{' '}
                        <span className="text-xs font-normal text-slate-400">{shortId(o.id)}</span>
                      </p>
                      <p className="truncate text-sm text-slate-500">
                        {formatDateTime(o.timestamps.deliveredAt ?? o.timestamps.createdAt)} ·{' '}
                        {o.deliveryAddress}
                      </p>
                    </div>
                    <div className="flex shrink-0 items-center gap-2">
                      {o.status === 'delivered' && (
                        <span className="text-sm tabular-nums">
                          {formatCents(o.deliveryFeeCents + o.tipCents)}
                        </span>
                      )}
                      <StatusBadge status={o.status} />
                    </div>
                  </Link>
                </li>
              ))}
            </ul>
            {history.error && <ErrorNotice error={history.error} />}
            {history.hasNextPage && (
              <div className="mt-4 flex justify-center">
                <Button
                  variant="secondary"
                  busy={history.isFetchingNextPage}
                  onClick={() => void history.fetchNextPage()}
                >
                  Show older deliveries
                </Button>
              </div>
            )}
          </>
        )}
      </section>
    </div>
  );
}
