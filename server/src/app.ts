import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyContextConfig,
  type FastifyInstance,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { authRoutes } from './auth/auth.routes.ts';
import { catalogRoutes, storeRoutes } from './catalog/catalog.routes.ts';
import type { Config } from './config.ts';
import { healthRoutes } from './health/health.routes.ts';
import { registerAuthHook } from './http/auth-hook.ts';
import { registerErrorHandler } from './http/errors.ts';
import { httpDuration } from './metrics/metrics.ts';
import { merchantOrderRoutes, orderRoutes } from './orders/orders.routes.ts';
import type { Infra } from './platform/infra.ts';
import type { Services } from './services.ts';

export interface RouteEntry {
  method: string;
  url: string;
  auth: NonNullable<FastifyContextConfig['auth']>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its access rule, as registered (the security tests walk it). */
    routeTable: readonly RouteEntry[];
  }
}

export interface AppDeps {
  config: Config;
  infra: Infra;
  services: Services;
  logger: Logger;
}

export async function buildApp({
  config,
  infra,
  services,
  logger,
}: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's logger so the instance keeps Fastify's default logger type.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    trustProxy: true,
  }).withTypeProvider<ZodTypeProvider>();

  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD')
        routes.push({ method, url: route.url, auth: route.config?.auth ?? 'public' });
    }
  });
  app.decorate('routeTable', routes);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Delivery platform API',
        version: '1.0.0',
        description:
          'HTTP contract of the delivery platform (see docs/api.md for the WebSocket protocol).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'sid' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
  });
  registerAuthHook(app, services.auth);

  let shuttingDown = false;
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });

  const startedAt = Date.now();
  await app.register(healthRoutes, {
    db: infra.db,
    kv: infra.kv,
    startedAt,
    isShuttingDown: () => shuttingDown,
  });
  await app.register(
    async (api) => {
      await api.register(authRoutes, {
        prefix: '/auth',
        auth: services.auth,
        cookieSecure: config.cookieSecure,
      });
      await api.register(catalogRoutes, { catalog: services.catalog });
      await api.register(orderRoutes, { orders: services.orders });
      await api.register(
        async (merchant) => {
          await merchant.register(storeRoutes, { catalog: services.catalog });
          await merchant.register(merchantOrderRoutes, { orders: services.orders });
        },
        { prefix: '/merchant' },
      );
    },
    { prefix: '/api/v1' },
  );
  return app;
}
