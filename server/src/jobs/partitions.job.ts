import { ensurePartitions } from '../db/partitions.ts';
import { HOUR_MS, type Job } from './job.ts';

/**
 * Keeps monthly order and daily location-history partitions created ahead (creating is
 * idempotent and serialised by an advisory lock; the server also does it at start).
 */
export const partitionsJob: Job = {
  name: 'partitions',
  description: 'create monthly order and daily location-history partitions ahead of time',
  everyMs: 6 * HOUR_MS,
  async run(ctx) {
    if (ctx.dryRun) return { summary: 'dry run: would create any missing partitions ahead' };
    const created = await ensurePartitions(ctx.db);
    return { summary: `${created} partition(s) created`, details: { created } };
  },
};
