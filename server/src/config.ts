import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
/** `10/15m`: at most 10 in any window of 15 minutes; `off` disables the limit. */
const rateLimit = z
  .string()
  .regex(/^(off|\d+\/\d+[smh])$/, 'a limit like 10/15m (count/window in s, m or h) or off')
  .transform((v) => {
    if (v === 'off') return null;
    const [, max = '0', n = '0', unit = 's'] = /^(\d+)\/(\d+)([smh])$/.exec(v) ?? [];
    return Object.freeze({
      max: Number(max),
      windowMs: Number(n) * DURATION_MS[unit as keyof typeof DURATION_MS],
    });
  });

/** Origins exactly as a browser sends them: scheme://host[:port], comma-separated. */
const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every((o) => URL.canParse(o) && new URL(o).origin === o), {
    message: 'comma-separated origins like https://app.example.com (no path, no trailing slash)',
  });

export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

/** Whose X-Forwarded-For to believe: true/false, a hop count, or proxy addresses/CIDRs. */
const trustProxy = z.string().transform((v): TrustProxy => {
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^\d+$/.test(v)) return (_address, hop) => hop < Number(v);
  return v.split(',').map((a) => a.trim());
});

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
  SESSION_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  TRUST_PROXY: trustProxy.default(false),
  CORS_ORIGINS: origins.default([]),
  MAP_TILE_URL: z
    .string()
    .refine((v) => v === 'none' || URL.canParse(v.replaceAll('{s}', 'a')), 'a URL template or none')
    .default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
  RATE_LIMIT_API: rateLimit.default(rateLimit.parse('600/1m')),
  RATE_LIMIT_LOGIN: rateLimit.default(rateLimit.parse('10/15m')),
  RATE_LIMIT_REGISTER: rateLimit.default(rateLimit.parse('20/1h')),
  SEED_DEMO: z.enum(['auto', 'true', 'false']).default('auto'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(1024).max(1_048_576).default(19_456),
  INSTANCE_ID: z.string().max(64).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  DISPATCH_ENABLED: flag.default(true),
  DISPATCH_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  DISPATCH_OFFER_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  DISPATCH_RINGS_KM: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated kilometres, e.g. 2,5,10')
    .refine((v) => v.split(',').every((km) => Number(km) > 0 && Number(km) <= 100), {
      message: 'every ring must be more than 0 and at most 100 km',
    })
    .default('2,5,10'),
  DISPATCH_RETRY_MAX_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  DISPATCH_FLAG_AFTER_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  DRIVER_STALE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  DRIVER_OFFLINE_FLAG_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  DISPATCH_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  // Stuck-order sweep and geo-index rebuild (server/src/ops; docs/operations.md, runbooks).
  STUCK_PENDING_CANCEL_MS: z.coerce.number().int().min(60_000).max(604_800_000).default(1_800_000),
  STUCK_REDISPATCH_AFTER_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(120_000),
  STUCK_FLAG_AFTER_MS: z.coerce.number().int().min(1_000).max(604_800_000).default(1_800_000),
  STUCK_NO_PROGRESS_MS: z.coerce.number().int().min(60_000).max(604_800_000).default(7_200_000),
  GEO_REBUILD_MAX_AGE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(900_000),
  LOCATION_MAX_SPEED_MPS: z.coerce.number().positive().max(1_000).default(70),
  LOCATION_MAX_SKEW_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  LOCATION_HISTORY_EVERY_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  LOCATION_HISTORY_EVERY_M: z.coerce.number().min(0).max(100_000).default(50),
  ETA_ROAD_FACTOR: z.coerce.number().min(1).max(3).default(1.35),
  ETA_SPEED_KMH: z
    .string()
    .regex(/^(\w+=\d+(\.\d+)?)(,\w+=\d+(\.\d+)?)*$/, 'vehicle=km/h pairs, e.g. bicycle=15,car=22')
    .refine((v) => v.split(',').every((pair) => Number(pair.split('=')[1]) > 0), {
      message: 'every speed must be more than 0 km/h',
    })
    .default('bicycle=15,scooter=24,car=22'),
  // Data lifecycle (server/src/lifecycle, jobs in server/src/jobs; docs/operations.md).
  JOBS_ENABLED: flag.optional(),
  JOBS_TICK_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  JOBS_DISABLED: z.string().default(''),
  ARCHIVE_DIR: z.string().optional(),
  ARCHIVE_S3_BUCKET: z.string().min(3).max(63).optional(),
  ARCHIVE_S3_ENDPOINT: z.string().url().optional(),
  ARCHIVE_S3_REGION: z.string().default('us-east-1'),
  ARCHIVE_S3_FORCE_PATH_STYLE: flag.default(true),
  ORDERS_HOT_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  LOCATION_RAW_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  LOCATION_DAILY_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  AUDIT_HOT_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
  NOTIFICATIONS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
  ARCHIVE_ORDERS_YEARS: z.coerce.number().int().min(1).max(100).default(7),
  ARCHIVE_AUDIT_YEARS: z.coerce.number().int().min(1).max(100).default(2),
});

export type RateRule = Readonly<{ max: number; windowMs: number }>;

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
  sessionCacheTtlMs: number;
  cookieSecure: boolean;
  trustProxy: TrustProxy;
  /** Cross-origin callers allowed by CORS; empty means same-origin only. */
  corsOrigins: readonly string[];
  /** Where the web app's map tiles come from ('none': no tiles); the CSP allows its images. */
  mapTileUrl: string;
  rateLimits: Readonly<{ api: RateRule | null; login: RateRule | null; register: RateRule | null }>;
  /** Load demo data when the database is empty. */
  seedDemo: boolean;
  bodyLimitBytes: number;
  passwordHashMemoryKib: number;
  instanceId: string;
  shutdownGraceMs: number;
  dispatch: Readonly<{
    enabled: boolean;
    tickMs: number;
    /** Due orders one process works on at once, each in its own transaction. */
    concurrency: number;
    offerTimeoutMs: number;
    ringsKm: readonly number[];
    retryMaxMs: number;
    flagAfterMs: number;
    driverStaleMs: number;
    offlineFlagMs: number;
    /** How long the driver-matching breaker stays open before it lets one trial through. */
    breakerResetMs: number;
  }>;
  /** Thresholds of the stuck-order sweep (server/src/ops/stuck-orders.ts). */
  stuck: Readonly<{
    /** A pending order the store never confirmed is cancelled, with a notice, after this. */
    pendingCancelMs: number;
    /** A driverless order whose dispatch is not running is searched for again after this. */
    redispatchAfterMs: number;
    /** A confirmed order still without a driver this long after confirmation is flagged. */
    flagAfterMs: number;
    /** An order with a driver that has not changed status for this long is flagged. */
    noProgressMs: number;
  }>;
  /** `rebuild-geo` restores online drivers whose last position is at most this old. */
  geoRebuildMaxAgeMs: number;
  location: Readonly<{
    maxSpeedMps: number;
    maxSkewMs: number;
    historyEveryMs: number;
    historyEveryM: number;
  }>;
  eta: Readonly<{ roadFactor: number; speedKmh: Readonly<Record<string, number>> }>;
  /** Scheduled jobs; off by default under NODE_ENV=test (tests run them by hand). */
  jobs: Readonly<{ enabled: boolean; tickMs: number; disabled: readonly string[] }>;
  /** Where archives go: an S3 bucket when set, else a local folder (none: DATA_DIR=memory). */
  archive: Readonly<{
    dir: string | undefined;
    s3:
      | Readonly<{ bucket: string; endpoint?: string; region: string; forcePathStyle: boolean }>
      | undefined;
  }>;
  retention: Readonly<{
    ordersHotDays: number;
    locationRawDays: number;
    locationDailyDays: number;
    auditHotDays: number;
    notificationsDays: number;
    idempotencyHours: number;
    archiveOrdersYears: number;
    archiveAuditYears: number;
  }>;
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
    sessionCacheTtlMs: e.SESSION_CACHE_TTL_SECONDS * 1_000,
    cookieSecure: e.COOKIE_SECURE ?? production,
    trustProxy: e.TRUST_PROXY,
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    mapTileUrl: e.MAP_TILE_URL,
    rateLimits: Object.freeze({
      api: e.RATE_LIMIT_API,
      login: e.RATE_LIMIT_LOGIN,
      register: e.RATE_LIMIT_REGISTER,
    }),
    seedDemo: e.SEED_DEMO === 'auto' ? !production : e.SEED_DEMO === 'true',
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    passwordHashMemoryKib: e.PASSWORD_HASH_MEMORY_KIB,
    instanceId: e.INSTANCE_ID ?? `${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    dispatch: Object.freeze({
      enabled: e.DISPATCH_ENABLED,
      tickMs: e.DISPATCH_TICK_MS,
      concurrency: e.DISPATCH_CONCURRENCY,
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
      breakerResetMs: e.DISPATCH_BREAKER_RESET_MS,
    }),
    stuck: Object.freeze({
      pendingCancelMs: e.STUCK_PENDING_CANCEL_MS,
      redispatchAfterMs: e.STUCK_REDISPATCH_AFTER_MS,
      flagAfterMs: e.STUCK_FLAG_AFTER_MS,
      noProgressMs: e.STUCK_NO_PROGRESS_MS,
    }),
    geoRebuildMaxAgeMs: e.GEO_REBUILD_MAX_AGE_MS,
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
    jobs: Object.freeze({
      enabled: e.JOBS_ENABLED ?? e.NODE_ENV !== 'test',
      tickMs: e.JOBS_TICK_MS,
      disabled: Object.freeze(
        e.JOBS_DISABLED.split(',')
          .map((j) => j.trim())
          .filter(Boolean),
      ),
    }),
    archive: Object.freeze({
      dir: e.ARCHIVE_DIR ?? (e.DATA_DIR === 'memory' ? undefined : `${e.DATA_DIR}/archive`),
      s3: e.ARCHIVE_S3_BUCKET
        ? Object.freeze({
            bucket: e.ARCHIVE_S3_BUCKET,
            ...(e.ARCHIVE_S3_ENDPOINT ? { endpoint: e.ARCHIVE_S3_ENDPOINT } : {}),
            region: e.ARCHIVE_S3_REGION,
            forcePathStyle: e.ARCHIVE_S3_FORCE_PATH_STYLE,
          })
        : undefined,
    }),
    retention: Object.freeze({
      ordersHotDays: e.ORDERS_HOT_DAYS,
      locationRawDays: e.LOCATION_RAW_DAYS,
      locationDailyDays: e.LOCATION_DAILY_DAYS,
      auditHotDays: e.AUDIT_HOT_DAYS,
      notificationsDays: e.NOTIFICATIONS_RETENTION_DAYS,
      // API.md: a key is honoured 24 h; the purge never removes one that might still be replayed.
      idempotencyHours: 24,
      archiveOrdersYears: e.ARCHIVE_ORDERS_YEARS,
      archiveAuditYears: e.ARCHIVE_AUDIT_YEARS,
    }),
  });
}
