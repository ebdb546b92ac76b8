import {
  AdminCancelBody,
  AdminDriverList,
  AdminDriversQuery,
  AdminOrdersQuery,
  AdminStats,
  OrderList,
  OrderResponse,
  UuidParam,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { AdminService } from './admin.service.ts';

/** Operations console: `/api/v1/admin/...`, admins only. */
export const adminRoutes: FastifyPluginAsyncZod<{ admin: AdminService }> = async (
  app,
  { admin },
) => {
  const tags = ['admin'];
  const config = { auth: ['admin'] as const };

  app.get('/stats', { config, schema: { tags, response: { 200: AdminStats } } }, async () =>
    admin.stats(),
  );

  app.get(
    '/orders',
    { config, schema: { tags, querystring: AdminOrdersQuery, response: { 200: OrderList } } },
    async (request) => admin.orders(request.query),
  );

  app.get(
    '/drivers',
    {
      config,
      schema: { tags, querystring: AdminDriversQuery, response: { 200: AdminDriverList } },
    },
    async (request) => admin.drivers(request.query),
  );

  app.post(
    '/orders/:id/cancel',
    {
      config,
      schema: { tags, params: UuidParam, body: AdminCancelBody, response: { 200: OrderResponse } },
    },
    async (request) => ({
      order: await admin.cancel(sessionOf(request).userId, request.params.id, request.body?.reason),
    }),
  );
};
