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
import { adminRoutes } from './admin/admin.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { catalogRoutes, storeRoutes } from './catalog/catalog.routes.ts';
import type { Config } from './config.ts';
import { stateOf } from './dispatch/breaker.ts';
import { reassignRoutes } from './dispatch/dispatch.routes.ts';
import { driverRoutes } from './drivers/drivers.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { registerAuthHook } from './http/auth-hook.ts';
import { frameworkErrorHandler, registerErrorHandler } from './http/errors.ts';
import { registerRateLimits } from './http/rate-limit.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerTextGuard } from './http/text-guard.ts';
import { httpDuration } from './metrics/metrics.ts';
import { notificationRoutes } from './notifications/notifications.routes.ts';
import { merchantOrderRoutes, orderRoutes } from './orders/orders.routes.ts';
import type { Infra } from './platform/infra.ts';
import { ratingRoutes } from './ratings/ratings.routes.ts';
import { registerWebSocketGateway } from './realtime/gateway.ts';
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
    // A caller's request id is kept only if it looks like one; otherwise we make our own.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{8,64}$/.test(given) ? given : crypto.randomUUID();
    },
    // Only a configured proxy may set the client address (X-Forwarded-For): rate limits key on it.
    trustProxy: config.trustProxy,
    frameworkErrors: frameworkErrorHandler,
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

  await registerSecurityHeaders(app, config);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Delivery platform API',
        version: '1.0.0',
        description:
          'HTTP contract of the delivery platform (the WebSocket protocol at /ws is described in docs/websocket.md).',
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
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-request-id', request.id);
  });
  registerRateLimits(app, {
    limiter: infra.kv.rateLimiter,
    clock: infra.clock,
    rules: config.rateLimits,
    log: app.log,
  });
  registerAuthHook(app, services.auth);
  registerTextGuard(app);
  await registerWebSocketGateway(app, {
    auth: services.auth,
    db: infra.db,
    storeOf: services.storeOf,
    bus: infra.kv.bus,
    events: infra.kv.events,
    clock: infra.clock,
    // The message is passed as is: `ingest` reads only the location fields, not type or seq.
    onLocation: (driverId, msg) => services.location.ingest(driverId, msg),
  });

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
    breakers: () => ({ 'driver-matching': stateOf(services.dispatch.breaker) }),
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
      await api.register(ratingRoutes, { ratings: services.ratings });
      await api.register(notificationRoutes, { notifications: services.notifications });
      await api.register(adminRoutes, { prefix: '/admin', admin: services.admin });
      await api.register(reassignRoutes, {
        prefix: '/admin',
        dispatch: services.dispatch,
        orders: services.orders,
      });
      await api.register(driverRoutes, {
        prefix: '/driver',
        drivers: services.drivers,
        dispatch: services.dispatch,
        orders: services.orders,
      });
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
  // The web app's build and its client-side routes; last, so every API route wins.
  const { registerWebApp } = await import('./http/web.ts');
  await registerWebApp(app);
  return app;
}
