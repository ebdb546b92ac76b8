import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyValueAdapters } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { activeOrders, dbPool, onlineDrivers, registry } from '../metrics/metrics.ts';

export interface HealthOptions {
  db: Db;
  kv: KeyValueAdapters;
  startedAt: number;
  /** Extra named checks (circuit breakers, ...) reported as 'closed'/'open'/'half-open'. */
  breakers?: () => Record<string, string>;
  isShuttingDown: () => boolean;
}

const CHECK_TIMEOUT_MS = 2_000;

async function check(fn: () => Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([fn(), timeout]);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

const Ready = z.object({
  status: z.enum(['ok', 'unavailable']),
  postgres: z.string(),
  redis: z.string(),
  circuitBreakers: z.record(z.string(), z.string()),
  uptimeSeconds: z.number(),
  errors: z.array(z.string()).optional(),
});

export const healthRoutes: FastifyPluginAsyncZod<HealthOptions> = async (app, opts) => {
  const tags = ['operations'];
  app.get(
    '/health',
    { schema: { tags, response: { 200: z.object({ status: z.literal('ok') }) } } },
    () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/health/ready',
    { schema: { tags, response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const [dbError, kvError] = await Promise.all([
        check(() => opts.db.ping()),
        check(() => opts.kv.ping()),
      ]);
      const errors = [dbError && `postgres: ${dbError}`, kvError && `redis: ${kvError}`].filter(
        (e): e is string => Boolean(e),
      );
      if (opts.isShuttingDown()) errors.push('shutting down');
      const connected = (err: string | null, embedded: boolean, name: string) =>
        err ? 'disconnected' : embedded ? `embedded (${name})` : 'connected';
      const body = {
        status: errors.length ? ('unavailable' as const) : ('ok' as const),
        postgres: connected(dbError, opts.db.kind === 'pglite', 'PGlite'),
        redis: connected(kvError, opts.kv.kind === 'memory', 'in-process'),
        circuitBreakers: opts.breakers?.() ?? {},
        uptimeSeconds: Math.round((Date.now() - opts.startedAt) / 1000),
        ...(errors.length ? { errors } : {}),
      };
      return reply.code(errors.length ? 503 : 200).send(body);
    },
  );

  app.get('/metrics', { schema: { tags } }, async (_request, reply) => {
    await refreshDatabaseGauges(opts.db).catch(() => undefined); // a down database must not hide the rest
    const pool = opts.db.poolStats?.();
    if (pool) for (const [state, n] of Object.entries(pool)) dbPool.set({ state }, n);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};

/** Gauges that are facts of the shared database, so every instance reports the same value. */
async function refreshDatabaseGauges(db: Db): Promise<void> {
  const drivers = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM drivers WHERE status = 'online'`,
  );
  onlineDrivers.set(drivers.rows[0]?.n ?? 0);
  const orders = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM orders
     WHERE status NOT IN ('delivered', 'cancelled') GROUP BY status`,
  );
  activeOrders.reset();
  for (const r of orders.rows) activeOrders.set({ status: r.status }, r.n);
}
