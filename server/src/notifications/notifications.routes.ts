import {
  NotificationList,
  NotificationResponse,
  NotificationsQuery,
  UuidParam,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { NotificationsService } from './notifications.service.ts';

/** Everyone's own notifications: `/api/v1/notifications...`. */
export const notificationRoutes: FastifyPluginAsyncZod<{
  notifications: NotificationsService;
}> = async (app, { notifications }) => {
  const tags = ['notifications'];

  app.get(
    '/notifications',
    {
      config: { auth: 'any' },
      schema: { tags, querystring: NotificationsQuery, response: { 200: NotificationList } },
    },
    async (request) => notifications.list(sessionOf(request).userId, request.query),
  );

  app.post(
    '/notifications/:id/read',
    {
      config: { auth: 'any' },
      schema: { tags, params: UuidParam, response: { 200: NotificationResponse } },
    },
    async (request) => ({
      notification: await notifications.markRead(sessionOf(request).userId, request.params.id),
    }),
  );
};
