import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { loadConfig, type Config } from '../src/config.ts';
import type { Clock } from '../src/platform/clock.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';

/**
 * A whole server for one test file, on isolated data: a fresh in-memory PGlite by default, or,
 * when DATABASE_URL / REDIS_URL are set, a database of its own on that server and a Redis key
 * prefix of its own, both removed afterwards.
 */
export interface TestPlatform extends Platform {
  config: Config;
  baseUrl: string;
  stop(): Promise<void>;
}

const suffix = () => randomBytes(6).toString('hex');

export async function createDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new URL(url);
  const name = `${admin.pathname.slice(1) || 'delivery'}_t_${suffix()}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    url: own.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const STOP_WATCHDOG_MS = 15_000;

const TEST_RATE_LIMITS = {
  RATE_LIMIT_API: '100000/1m',
  RATE_LIMIT_LOGIN: '100000/1m',
  RATE_LIMIT_REGISTER: '100000/1m',
};

export interface TestPlatformOptions {
  /** A clock the test moves (dispatch deadlines, TTLs of the in-process adapters). */
  clock?: Clock;
  /**
   * Another instance on the same PostgreSQL database and Redis prefix (a second server
   * process); real mode only. Stopping it leaves the shared data to the first instance.
   */
  shareWith?: TestPlatform;
  /** Receives the server's log lines (set TEST_LOG_LEVEL or LOG_LEVEL in `env` to see any). */
  logStream?: DestinationStream;
  /** Keep the production rate limits instead of the high ones tests use by default. */
  productionRateLimits?: boolean;
}

export async function startTestPlatform(
  env: Record<string, string> = {},
  opts: TestPlatformOptions = {},
): Promise<TestPlatform> {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  const shared = opts.shareWith;
  if (shared && !(shared.config.databaseUrl && shared.config.redisUrl)) {
    throw new Error('shareWith needs DATABASE_URL and REDIS_URL: embedded data is per process');
  }
  const database = databaseUrl && !shared ? await createDatabase(databaseUrl) : null;
  const redisPrefix =
    shared?.config.redisPrefix ?? `${process.env.REDIS_PREFIX ?? 'test:'}${suffix()}:`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: 'memory',
    SEED_DEMO: 'false',
    PASSWORD_HASH_MEMORY_KIB: '1024',
    // Factories register and sign in many users from 127.0.0.1: the limits stay on, but high.
    ...(opts.productionRateLimits ? {} : TEST_RATE_LIMITS),
    REDIS_PREFIX: redisPrefix,
    ...(database ? { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '20' } : {}),
    ...(shared ? { DATABASE_URL: shared.config.databaseUrl!, DATABASE_POOL_SIZE: '20' } : {}),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...env,
  });
  const logger = createLogger(config, opts.logStream);
  const platform = await createPlatform(config, logger, { clock: opts.clock });
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const address = platform.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ...platform,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    get closing() {
      return platform.closing;
    },
    async stop() {
      // A teardown that hangs says where, before the hook's timeout cuts it off.
      const watchdog = setInterval(
        () => process.stderr.write(`platform.close() still in step ${platform.closing}\n`),
        STOP_WATCHDOG_MS,
      );
      try {
        await platform.close();
      } finally {
        clearInterval(watchdog);
      }
      if (shared) return;
      await database?.drop();
      if (redisUrl) await deleteRedisPrefix(redisUrl, redisPrefix);
    },
  };
}
