import {
  DriverStatusResponse,
  EarningsResponse,
  GoOnlineBody,
  LocationAccepted,
  LocationBody,
  OfferResponse,
  OrderList,
  OrderResponse,
  OrdersQuery,
  UuidParam,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DispatchService } from '../dispatch/dispatch.service.ts';
import { sessionOf } from '../http/auth-hook.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { DriversService } from './drivers.service.ts';

export interface DriverRoutesOptions {
  drivers: DriversService;
  dispatch: DispatchService;
  orders: OrdersService;
}

/** The driver app's API: `/api/v1/driver/...`. */
export const driverRoutes: FastifyPluginAsyncZod<DriverRoutesOptions> = async (
  app,
  { drivers, dispatch, orders },
) => {
  const config = { auth: ['driver'] as const };
  const tags = ['driver'];
  const me = (request: Parameters<typeof sessionOf>[0]) => sessionOf(request).userId;

  app.get(
    '/status',
    { config, schema: { tags, response: { 200: DriverStatusResponse } } },
    async (request) => ({
      driver: await drivers.status(me(request)),
    }),
  );

  app.post(
    '/go-online',
    { config, schema: { tags, body: GoOnlineBody, response: { 200: DriverStatusResponse } } },
    async (request) => ({ driver: await drivers.goOnline(me(request), request.body) }),
  );

  app.post(
    '/go-offline',
    { config, schema: { tags, response: { 200: DriverStatusResponse } } },
    async (request) => ({
      driver: await drivers.goOffline(me(request)),
    }),
  );

  app.post(
    '/location',
    { config, schema: { tags, body: LocationBody, response: { 202: LocationAccepted } } },
    async (request, reply) => {
      const result = await drivers.updateLocation(me(request), request.body);
      return reply
        .code(202)
        .send({ accepted: result.accepted, ...(result.reason ? { reason: result.reason } : {}) });
    },
  );

  app.get(
    '/offers',
    { config, schema: { tags, response: { 200: OfferResponse } } },
    async (request) => ({
      offer: await dispatch.currentOffer(me(request)),
    }),
  );

  app.post(
    '/offers/:id/accept',
    { config, schema: { tags, params: UuidParam, response: { 200: OrderResponse } } },
    async (request) => {
      return { order: await orders.withEta(await dispatch.accept(me(request), request.params.id)) };
    },
  );

  app.post(
    '/offers/:id/reject',
    { config, schema: { tags, params: UuidParam, response: { 200: OfferResponse } } },
    async (request) => {
      await dispatch.reject(me(request), request.params.id);
      return { offer: await dispatch.currentOffer(me(request)) };
    },
  );

  app.get(
    '/orders',
    { config, schema: { tags, querystring: OrdersQuery, response: { 200: OrderList } } },
    async (request) => drivers.listOrders(me(request), request.query),
  );

  app.post(
    '/orders/:id/picked-up',
    { config, schema: { tags, params: UuidParam, response: { 200: OrderResponse } } },
    async (request) => ({ order: await drivers.pickedUp(me(request), request.params.id) }),
  );

  app.post(
    '/orders/:id/delivered',
    { config, schema: { tags, params: UuidParam, response: { 200: OrderResponse } } },
    async (request) => ({ order: await drivers.delivered(me(request), request.params.id) }),
  );

  app.get(
    '/earnings',
    { config, schema: { tags, response: { 200: EarningsResponse } } },
    async (request) => drivers.earnings(me(request)),
  );
};
