import { NotificationList, NotificationResponse } from '@delivery/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from './client.ts';

export const notificationKeys = { list: ['notifications'] as const };

/**
 * The newest notifications and the unread count. Live `notification` events on the channels
 * the page listens to refresh it at once; the interval covers the others.
 */
export function useNotifications(enabled = true) {
  return useQuery({
    queryKey: notificationKeys.list,
    enabled,
    queryFn: ({ signal }) =>
      request('/notifications', NotificationList, { query: { limit: 50 }, signal }),
    refetchInterval: 30_000,
  });
}

export function useMarkNotificationRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      (await request(`/notifications/${id}/read`, NotificationResponse, { method: 'POST' }))
        .notification,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: notificationKeys.list }),
  });
}
