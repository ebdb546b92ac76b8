import { Link } from '@tanstack/react-router';
import { useMarkNotificationRead, useNotifications } from '../api/notifications.ts';
import { Button, Empty, ErrorNotice, Loading, PageTitle } from '../components/ui.tsx';
import { formatDateTime } from '../lib/format.ts';
import { useSession } from '../stores/session.ts';

export function NotificationsPage() {
  const { data, error, isPending, refetch } = useNotifications();
  const markRead = useMarkNotificationRead();
  const role = useSession((s) => s.user?.role);

  return (
    <div className="max-w-3xl">
      <PageTitle
        aside={data && <span className="text-sm text-slate-600">{data.unread} unread</span>}
      >
        Notifications
      </PageTitle>
      {markRead.error && <ErrorNotice error={markRead.error} />}
      {isPending ? (
        <Loading what="notifications" />
      ) : error ? (
        <ErrorNotice error={error} onRetry={() => void refetch()} />
      ) : data.items.length === 0 ? (
        <Empty title="No notifications yet">Updates about your orders will show up here.</Empty>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
          {data.items.map((n) => (
            <li
              key={n.id}
              className={`flex items-start justify-between gap-3 px-4 py-3 ${n.readAt ? '' : 'bg-brand-50/60'}`}
            >
              <div>
                <p className="font-medium">
                  {!n.readAt && (
                    <span
                      className="mr-2 inline-block h-2 w-2 rounded-full bg-brand-600"
                      aria-label="Unread"
                    />
                  )}
                  {n.title}
                </p>
                <p className="text-sm text-slate-600">{n.body}</p>
                <p className="mt-1 text-xs text-slate-400">
                  {formatDateTime(n.createdAt)}
                  {n.orderId && (role === 'customer' || role === 'driver') && (
                    <>
                      {' · '}
                      <Link
                        to={role === 'driver' ? '/driver/orders/$orderId' : '/orders/$orderId'}
                        params={{ orderId: n.orderId }}
                        className="text-brand-700 underline"
                      >
                        View order
                      </Link>
                    </>
                  )}
                </p>
              </div>
              {!n.readAt && (
                <Button
                  variant="secondary"
                  onClick={() => markRead.mutate(n.id)}
                  disabled={markRead.isPending && markRead.variables === n.id}
                >
                  Mark read
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
