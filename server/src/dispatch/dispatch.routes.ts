import { OrderResponse, ReassignBody, UuidParam } from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { DispatchService } from './dispatch.service.ts';

/** Operator control over matching: `/api/v1/admin/orders/:id/reassign`. */
export const reassignRoutes: FastifyPluginAsyncZod<{
  dispatch: DispatchService;
  orders: OrdersService;
}> = async (app, { dispatch, orders }) => {
  app.post(
    '/orders/:id/reassign',
    {
      config: { auth: ['admin'] },
      schema: {
        tags: ['admin'],
        params: UuidParam,
        body: ReassignBody,
        response: { 200: OrderResponse },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      await dispatch.reassign(
        request.params.id,
        session.userId,
        request.body?.driverId,
        request.body?.reason,
      );
      return { order: await orders.get(session, request.params.id) };
    },
  );
};
