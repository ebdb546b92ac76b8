import type { OrderStatus } from '@delivery/contracts';
import { useMerchantOrders } from '../../api/merchant.ts';
import { Empty, ErrorNotice, Loading, PageTitle } from '../../components/ui.tsx';
import { useConnectionState } from '../../realtime/useChannel.ts';
import { useMerchantInbox } from '../../stores/merchantInbox.ts';
import { useSession } from '../../stores/session.ts';
import { QueueOrderCard, type QueueOrder } from './QueueOrderCard.tsx';

const COLUMNS: { title: string; statuses: OrderStatus[]; empty: string }[] = [
  { title: 'New', statuses: ['pending'], empty: 'No new orders.' },
  { title: 'In the kitchen', statuses: ['confirmed', 'preparing'], empty: 'Nothing cooking.' },
  { title: 'Ready for pickup', statuses: ['ready_for_pickup'], empty: 'Nothing waiting.' },
];
const DONE: OrderStatus[] = ['picked_up', 'delivered', 'cancelled'];

/** The store's live queue; the feed that keeps it current runs in the merchant layout. */
export function QueuePage() {
  const merchantId = useSession((s) => s.user?.merchantId ?? null);
  const orders = useMerchantOrders(Boolean(merchantId));
  const fresh = useMerchantInbox((s) => s.fresh);
  const seen = useMerchantInbox((s) => s.seen);
  const live = useConnectionState() === 'live';

  if (!merchantId) {
    return (
      <Empty title="You do not run a store yet">
        An administrator attaches a store to your account; then its orders show up here.
      </Empty>
    );
  }

  const items = orders.data?.items ?? [];
  const done = items.filter((o) => DONE.includes(o.status)).slice(0, 9);
  const card = (o: QueueOrder) => (
    <QueueOrderCard key={o.id} order={o} isNew={fresh.has(o.id)} onSeen={() => seen(o.id)} />
  );

  return (
    <div>
      <PageTitle
        aside={
          <span className="flex items-center gap-2 text-sm text-slate-600">
            <span
              aria-hidden
              className={`h-2 w-2 rounded-full ${live ? 'animate-pulse bg-emerald-500' : 'bg-slate-400'}`}
            />
            {live ? 'Live' : 'Connecting…'}
          </span>
        }
      >
        Orders
      </PageTitle>
      {orders.isPending ? (
        <Loading what="orders" />
      ) : orders.error ? (
        <ErrorNotice error={orders.error} onRetry={() => void orders.refetch()} />
      ) : (
        <>
          <div className="grid gap-4 md:grid-cols-3">
            {COLUMNS.map((col) => {
              const list = items.filter((o) => col.statuses.includes(o.status));
              return (
                <section
                  key={col.title}
                  aria-label={col.title}
                  className="rounded-lg bg-slate-100 p-3"
                >
                  <h2 className="mb-2 flex items-center justify-between font-semibold">
                    {col.title}
                    <span className="rounded-full bg-white px-2 text-sm text-slate-600">
                      {list.length}
                    </span>
                  </h2>
                  {list.length === 0 ? (
                    <p className="py-6 text-center text-sm text-slate-500">{col.empty}</p>
                  ) : (
                    <ul className="space-y-3">{list.map(card)}</ul>
                  )}
                </section>
              );
            })}
          </div>
          <section className="mt-6">
            <h2 className="mb-2 font-semibold">Recent</h2>
            {done.length === 0 ? (
              <p className="text-sm text-slate-500">No finished orders yet.</p>
            ) : (
              <ul className="grid gap-3 md:grid-cols-3">{done.map(card)}</ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}
