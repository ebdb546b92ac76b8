import {
  CreateOrderBody,
  IdempotencyHeaders,
  ReasonBody,
  OrderList,
  OrderResponse,
  OrdersQuery,
  UuidParam,
  type OrderStatus,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { OrdersService } from './orders.service.ts';

/** Customers' orders: `/api/v1/orders...`. */
export const orderRoutes: FastifyPluginAsyncZod<{ orders: OrdersService }> = async (
  app,
  { orders },
) => {
  const tags = ['orders'];

  app.post(
    '/orders',
    {
      config: { auth: ['customer'] },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        body: CreateOrderBody,
        response: { 201: OrderResponse },
      },
    },
    async (request, reply) => {
      const result = await orders.place(
        sessionOf(request).userId,
        request.headers['x-idempotency-key'],
        request.body,
      );
      if (result.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(result.status as 201).send(result.body);
    },
  );

  app.get(
    '/orders',
    {
      config: { auth: ['customer'] },
      schema: { tags, querystring: OrdersQuery, response: { 200: OrderList } },
    },
    async (request) => orders.listForCustomer(sessionOf(request).userId, request.query),
  );

  app.get(
    '/orders/:id',
    {
      config: { auth: 'any' },
      schema: { tags, params: UuidParam, response: { 200: OrderResponse } },
    },
    async (request) => ({ order: await orders.get(sessionOf(request), request.params.id) }),
  );

  app.post(
    '/orders/:id/cancel',
    {
      config: { auth: ['customer'] },
      schema: { tags, params: UuidParam, body: ReasonBody, response: { 200: OrderResponse } },
    },
    async (request) => ({
      order: await orders.cancelByCustomer(
        sessionOf(request).userId,
        request.params.id,
        request.body?.reason,
      ),
    }),
  );
};

const MERCHANT_MOVES: ReadonlyArray<[string, OrderStatus]> = [
  ['confirm', 'confirmed'],
  ['reject', 'cancelled'],
  ['preparing', 'preparing'],
  ['ready', 'ready_for_pickup'],
];

/** A store's queue: `/api/v1/merchant/orders...`. */
export const merchantOrderRoutes: FastifyPluginAsyncZod<{ orders: OrdersService }> = async (
  app,
  { orders },
) => {
  const tags = ['merchant'];
  const config = { auth: ['merchant'] as const };

  app.get(
    '/orders',
    { config, schema: { tags, querystring: OrdersQuery, response: { 200: OrderList } } },
    async (request) => orders.listForMerchant(sessionOf(request).userId, request.query),
  );

  for (const [action, to] of MERCHANT_MOVES) {
    app.post(
      `/orders/:id/${action}`,
      {
        config,
        schema: { tags, params: UuidParam, body: ReasonBody, response: { 200: OrderResponse } },
      },
      async (request) => ({
        order: await orders.moveByMerchant(
          sessionOf(request).userId,
          request.params.id,
          to,
          request.body?.reason,
        ),
      }),
    );
  }
};
