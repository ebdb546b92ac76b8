import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().max(64).default('delivery:'),
  DATA_DIR: z.string().default(REPO_ROOT + 'data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(24),
  COOKIE_SECURE: flag.optional(),
  SEED_DEMO: z.enum(['auto', 'true', 'false']).default('auto'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(1024).max(1_048_576).default(19_456),
  INSTANCE_ID: z.string().max(64).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  DISPATCH_ENABLED: flag.default(true),
  DISPATCH_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  DISPATCH_OFFER_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  DISPATCH_RINGS_KM: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated kilometres, e.g. 2,5,10')
    .default('2,5,10'),
  DISPATCH_RETRY_MAX_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  DISPATCH_FLAG_AFTER_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  DRIVER_STALE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  DRIVER_OFFLINE_FLAG_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  LOCATION_MAX_SPEED_MPS: z.coerce.number().positive().max(1_000).default(70),
  LOCATION_MAX_SKEW_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  LOCATION_HISTORY_EVERY_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  LOCATION_HISTORY_EVERY_M: z.coerce.number().min(0).max(100_000).default(50),
  ETA_ROAD_FACTOR: z.coerce.number().min(1).max(3).default(1.35),
  ETA_SPEED_KMH: z
    .string()
    .regex(/^(\w+=\d+(\.\d+)?)(,\w+=\d+(\.\d+)?)*$/, 'vehicle=km/h pairs, e.g. bicycle=15,car=22')
    .default('bicycle=15,scooter=24,car=22'),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  dataDir: string;
  logLevel: string;
  sessionTtlMs: number;
  cookieSecure: boolean;
  /** Load demo data when the database is empty. */
  seedDemo: boolean;
  bodyLimitBytes: number;
  passwordHashMemoryKib: number;
  instanceId: string;
  shutdownGraceMs: number;
  dispatch: Readonly<{
    enabled: boolean;
    tickMs: number;
    offerTimeoutMs: number;
    ringsKm: readonly number[];
    retryMaxMs: number;
    flagAfterMs: number;
    driverStaleMs: number;
    offlineFlagMs: number;
  }>;
  location: Readonly<{
    maxSpeedMps: number;
    maxSkewMs: number;
    historyEveryMs: number;
    historyEveryM: number;
  }>;
  eta: Readonly<{ roadFactor: number; speedKmh: Readonly<Record<string, number>> }>;
}>;

/** Parses the environment once at boot; a bad value stops the process with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3_600_000,
    cookieSecure: e.COOKIE_SECURE ?? production,
    seedDemo: e.SEED_DEMO === 'auto' ? !production : e.SEED_DEMO === 'true',
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    passwordHashMemoryKib: e.PASSWORD_HASH_MEMORY_KIB,
    instanceId: e.INSTANCE_ID ?? `${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    dispatch: Object.freeze({
      enabled: e.DISPATCH_ENABLED,
      tickMs: e.DISPATCH_TICK_MS,
      offerTimeoutMs: e.DISPATCH_OFFER_TIMEOUT_MS,
      ringsKm: Object.freeze(
        e.DISPATCH_RINGS_KM.split(',')
          .map(Number)
          .sort((a, b) => a - b),
      ),
      retryMaxMs: e.DISPATCH_RETRY_MAX_MS,
      flagAfterMs: e.DISPATCH_FLAG_AFTER_MS,
      driverStaleMs: e.DRIVER_STALE_MS,
      offlineFlagMs: e.DRIVER_OFFLINE_FLAG_MS,
    }),
    location: Object.freeze({
      maxSpeedMps: e.LOCATION_MAX_SPEED_MPS,
      maxSkewMs: e.LOCATION_MAX_SKEW_MS,
      historyEveryMs: e.LOCATION_HISTORY_EVERY_MS,
      historyEveryM: e.LOCATION_HISTORY_EVERY_M,
    }),
    eta: Object.freeze({
      roadFactor: e.ETA_ROAD_FACTOR,
      speedKmh: Object.freeze(
        Object.fromEntries(
          e.ETA_SPEED_KMH.split(',').map((pair) => {
            const [vehicle = '', kmh = '0'] = pair.split('=');
            return [vehicle, Number(kmh)];
          }),
        ),
      ),
    }),
  });
}
