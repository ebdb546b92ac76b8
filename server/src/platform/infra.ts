import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { createMemoryAdapters } from '../adapters/memory/index.ts';
import type { KeyValueAdapters } from '../adapters/ports.ts';
import { createRedisAdapters } from '../adapters/redis/index.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { createPgliteDb } from '../db/pglite.ts';
import { createPostgresDb } from '../db/postgres.ts';
import { systemClock, type Clock } from './clock.ts';

/** `DATA_DIR=memory` keeps the embedded database in memory only (tests, throwaway demos). */
export const IN_MEMORY = 'memory';

export interface Infra {
  db: Db;
  /**
   * Connections of the dispatch sweep. With PostgreSQL it is a pool of its own (claimers + 1),
   * so matching never queues behind API requests for a connection: under load hundreds of
   * requests wait for the main pool, and a claim step needs several round trips. Otherwise
   * the same database as `db`.
   */
  dispatchDb: Db;
  kv: KeyValueAdapters;
  clock: Clock;
  close(): Promise<void>;
}

/** Real PostgreSQL and Redis when their URLs are set, in-process equivalents otherwise. */
export async function createInfra(
  config: Config,
  log: Logger,
  clock: Clock = systemClock,
): Promise<Infra> {
  const onAfterCommitError = (err: unknown) => log.error({ err }, 'after-commit hook failed');
  let db: Db;
  let dispatchDb: Db | undefined;
  if (config.databaseUrl) {
    const onPoolError = (err: unknown) => log.warn({ err }, 'idle PostgreSQL connection lost');
    db = createPostgresDb({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      applicationName: `delivery-api ${config.instanceId}`,
      onAfterCommitError,
      onPoolError,
    });
    if (config.dispatch.enabled) {
      dispatchDb = createPostgresDb({
        url: config.databaseUrl,
        poolSize: (config.dispatch.concurrency ?? 1) + 1, // the claimers and the abandoned-order scan
        applicationName: `delivery-dispatch ${config.instanceId}`,
        onAfterCommitError,
        onPoolError,
      });
    }
  } else if (config.dataDir === IN_MEMORY) {
    db = await createPgliteDb({ onAfterCommitError });
  } else {
    await mkdir(config.dataDir, { recursive: true });
    db = await createPgliteDb({ dataDir: `${config.dataDir}/pglite`, onAfterCommitError });
  }
  const kv = config.redisUrl
    ? createRedisAdapters({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        onError: (err) => log.warn({ err }, 'redis adapter error'),
      })
    : createMemoryAdapters({ clock });
  return {
    db,
    dispatchDb: dispatchDb ?? db,
    kv,
    clock,
    async close() {
      await Promise.allSettled([kv.close(), db.close(), dispatchDb?.close()]);
    },
  };
}
