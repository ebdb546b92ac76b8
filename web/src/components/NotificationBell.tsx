import { useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { notificationKeys, useNotifications } from '../api/notifications.ts';
import { useRealtimeEvents } from '../realtime/useChannel.ts';

export function NotificationBell() {
  const queryClient = useQueryClient();
  const { data } = useNotifications();
  useRealtimeEvents('notification', () => {
    void queryClient.invalidateQueries({ queryKey: notificationKeys.list });
  });
  const unread = data?.unread ?? 0;
  return (
    <Link
      to="/notifications"
      aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}
      className="relative rounded-md p-2 text-slate-600 hover:bg-slate-100"
      activeProps={{ className: 'bg-slate-100 text-slate-900' }}
    >
      <svg aria-hidden viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor">
        <path
          strokeWidth="2"
          strokeLinecap="round"
          strokeLinejoin="round"
          d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0v1a3 3 0 1 1-6 0v-1m6 0H9"
        />
      </svg>
      {unread > 0 && (
        <span
          aria-hidden
          className="absolute -top-0.5 -right-0.5 min-w-5 rounded-full bg-red-600 px-1 text-center text-xs leading-5 font-semibold text-white"
        >
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </Link>
  );
}
