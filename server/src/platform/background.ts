import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { startJobScheduler } from '../jobs/scheduler.ts';
import { opsJobs } from '../ops/ops.jobs.ts';
import type { Infra } from './infra.ts';
import type { Services } from '../services.ts';

/**
 * The work a server does besides answering requests: the dispatch sweeper (on every instance
 * with DISPATCH_ENABLED; SKIP LOCKED shares the work), batched location history and the
 * fleet position feed, and the scheduled jobs (partitions ahead, retention and archival; one
 * instance runs each, under a lease).
 */
export function startBackgroundWork(config: Config, infra: Infra, services: Services, log: Logger) {
  const ops = opsJobs({
    geo: infra.kv.geo,
    orders: services.orders,
    publisher: services.publisher,
    dispatch: services.dispatch,
  });
  const jobs = startJobScheduler(config, infra, log, ops);
  services.history.start();
  services.tracking.start();
  let sweeper: NodeJS.Timeout | undefined;
  if (config.dispatch.enabled) {
    // One sweep at a time: a slow one (a dependency timing out) is not joined by every later
    // interval, which would log its one failure once per tick it overlapped.
    let sweeping = false;
    sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      services.dispatch
        .tick()
        .catch((err: unknown) => log.warn({ err }, 'dispatch sweep failed'))
        .finally(() => (sweeping = false));
    }, config.dispatch.tickMs);
    sweeper.unref();
  }
  /** How it stops, step by step, in this order (the platform names the step under way). */
  const stopSteps: ReadonlyArray<readonly [BackgroundStep, () => Promise<void>]> = [
    [
      'jobs',
      () => {
        clearInterval(sweeper); // first: no sweep starts while the rest stops
        return jobs.stop(); // a running job stops at its next checkpoint
      },
    ],
    ['tracking', () => services.tracking.stop()],
    ['dispatch', () => services.dispatch.stop()], // waits for a sweep in progress, starts no other
    ['history', () => services.history.stop()],
  ];
  return { stopSteps };
}

export type BackgroundStep = 'jobs' | 'tracking' | 'dispatch' | 'history';
