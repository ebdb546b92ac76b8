import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { startPartitionJob } from '../jobs/partitions.job.ts';
import type { Infra } from './infra.ts';
import type { Services } from '../services.ts';

/**
 * The work a server does besides answering requests: the dispatch sweeper (on every instance
 * with DISPATCH_ENABLED; SKIP LOCKED shares the work), batched location history and the
 * fleet position feed, and partitions created ahead.
 */
export function startBackgroundWork(config: Config, infra: Infra, services: Services, log: Logger) {
  const partitions = startPartitionJob(infra.db, infra.kv.leases, config.instanceId, log);
  services.history.start();
  services.tracking.start();
  let sweeper: NodeJS.Timeout | undefined;
  if (config.dispatch.enabled) {
    sweeper = setInterval(() => {
      services.dispatch.tick().catch((err: unknown) => log.warn({ err }, 'dispatch sweep failed'));
    }, config.dispatch.tickMs);
    sweeper.unref();
  }
  return {
    async stop() {
      clearInterval(sweeper);
      partitions.stop();
      services.tracking.stop();
      await services.dispatch.tick(0).catch(() => 0); // waits for a sweep in progress
      await services.history.stop();
    },
  };
}
