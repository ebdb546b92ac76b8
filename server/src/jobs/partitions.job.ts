import type { Logger } from 'pino';
import type { LeaseManager } from '../adapters/ports.ts';
import type { Db } from '../db/db.ts';
import { ensurePartitions } from '../db/partitions.ts';

const EVERY_MS = 6 * 3_600_000;

/**
 * Keeps monthly order and daily location-history partitions created ahead. Runs at start and
 * every six hours on whichever instance holds the lease (creating is idempotent anyway).
 */
export function startPartitionJob(db: Db, leases: LeaseManager, holder: string, log: Logger) {
  const run = async () => {
    if (!(await leases.acquire('job:partitions', holder, 60_000))) return;
    try {
      const created = await ensurePartitions(db);
      if (created) log.info({ created }, 'partitions created ahead');
    } finally {
      await leases.release('job:partitions', holder);
    }
  };
  const timer = setInterval(() => {
    run().catch((err: unknown) => log.warn({ err }, 'partition job failed'));
  }, EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), run };
}
