import {
  MenuItemCreateBody,
  MenuItemPatchBody,
  MenuItemResponse,
  MenuResponse,
  MerchantList,
  MerchantResponse,
  MerchantsQuery,
  StorePatchBody,
  StoreResponse,
  UuidParam,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { CatalogService } from './catalog.service.ts';

/** Public browsing: `/api/v1/merchants...`. */
export const catalogRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> = async (
  app,
  { catalog },
) => {
  const tags = ['catalog'];
  app.get(
    '/merchants',
    { schema: { tags, querystring: MerchantsQuery, response: { 200: MerchantList } } },
    async (request) => ({
      items: await catalog.nearby(request.query),
      nextCursor: null,
    }),
  );

  app.get(
    '/merchants/:id',
    { schema: { tags, params: UuidParam, response: { 200: MerchantResponse } } },
    async (request) => ({
      merchant: await catalog.merchant(request.params.id),
    }),
  );

  app.get(
    '/merchants/:id/menu',
    { schema: { tags, params: UuidParam, response: { 200: MenuResponse } } },
    async (request) => ({
      items: await catalog.menu(request.params.id),
    }),
  );
};

/** A merchant owner's own store and menu: `/api/v1/merchant/...`. */
export const storeRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> = async (
  app,
  { catalog },
) => {
  const opts = { config: { auth: ['merchant'] as const } };
  const tags = ['merchant'];

  app.get(
    '/store',
    { ...opts, schema: { tags, response: { 200: StoreResponse } } },
    async (request) => ({
      merchant: await catalog.store(sessionOf(request).userId),
    }),
  );

  app.patch(
    '/store',
    { ...opts, schema: { tags, body: StorePatchBody, response: { 200: StoreResponse } } },
    async (request) => ({
      merchant: await catalog.updateStore(sessionOf(request).userId, request.body),
    }),
  );

  app.post(
    '/menu-items',
    { ...opts, schema: { tags, body: MenuItemCreateBody, response: { 201: MenuItemResponse } } },
    async (request, reply) =>
      reply
        .code(201)
        .send({ item: await catalog.addMenuItem(sessionOf(request).userId, request.body) }),
  );

  app.patch(
    '/menu-items/:id',
    {
      ...opts,
      schema: {
        tags,
        params: UuidParam,
        body: MenuItemPatchBody,
        response: { 200: MenuItemResponse },
      },
    },
    async (request) => ({
      item: await catalog.updateMenuItem(
        sessionOf(request).userId,
        request.params.id,
        request.body,
      ),
    }),
  );

  app.delete(
    '/menu-items/:id',
    { ...opts, schema: { tags, params: UuidParam, response: { 204: z.null() } } },
    async (request, reply) => {
      await catalog.removeMenuItem(sessionOf(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
