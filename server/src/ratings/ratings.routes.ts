import { CustomerRatingBody, RatingBody, RatingsResponse, UuidParam } from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sessionOf } from '../http/auth-hook.ts';
import type { RatingsService } from './ratings.service.ts';

/** Two-way ratings of a delivered order: customer → driver and store, driver → customer. */
export const ratingRoutes: FastifyPluginAsyncZod<{ ratings: RatingsService }> = async (
  app,
  { ratings },
) => {
  const tags = ['ratings'];

  app.post(
    '/orders/:id/rating',
    {
      config: { auth: ['customer'] },
      schema: { tags, params: UuidParam, body: RatingBody, response: { 201: RatingsResponse } },
    },
    async (request, reply) => {
      const { userId } = sessionOf(request);
      const created = await ratings.rateByCustomer(userId, request.params.id, request.body);
      return reply.code(201).send({ ratings: created });
    },
  );

  app.post(
    '/driver/orders/:id/rating',
    {
      config: { auth: ['driver'] },
      schema: {
        tags,
        params: UuidParam,
        body: CustomerRatingBody,
        response: { 201: RatingsResponse },
      },
    },
    async (request, reply) => {
      const { userId } = sessionOf(request);
      const created = await ratings.rateByDriver(userId, request.params.id, request.body);
      return reply.code(201).send({ ratings: created });
    },
  );

  app.get(
    '/orders/:id/ratings',
    {
      config: { auth: 'any' },
      schema: { tags, params: UuidParam, response: { 200: RatingsResponse } },
    },
    async (request) => ({
      ratings: await ratings.list(sessionOf(request), request.params.id),
    }),
  );
};
