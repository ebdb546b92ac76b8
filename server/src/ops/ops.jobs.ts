import type { GeoIndex } from '../adapters/ports.ts';
import type { Job } from '../jobs/job.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { rebuildGeoIndex } from './rebuild-geo.ts';
import { sweepStuckOrders } from './stuck-orders.ts';

/** What the operational jobs need beyond a job's context: services the server (or CLI) built. */
export interface OpsJobDeps {
  geo: GeoIndex;
  orders: Pick<OrdersService, 'transition'>;
  publisher?: Pick<ChannelPublisher, 'publish'>;
  /** Only inside a server: the CLI must not start dispatch sweeps of its own. */
  dispatch?: { kick(): void };
}

/** The design runbook "Orders stuck in processing" every minute (thresholds: STUCK_*). */
export function stuckOrdersJob(deps: OpsJobDeps): Job {
  return {
    name: 'stuck-orders',
    description:
      'cancel pending orders never confirmed (STUCK_PENDING_CANCEL_MS), restart dispatch that is not running, flag orders without a driver or progress for an operator',
    everyMs: 60_000,
    async run(ctx) {
      const r = await sweepStuckOrders({
        db: ctx.db,
        clock: { now: () => ctx.now },
        settings: ctx.config.stuck,
        orders: deps.orders,
        publisher: deps.publisher,
        dispatch: deps.dispatch,
        log: ctx.log,
        dryRun: ctx.dryRun,
      });
      return { summary: r.summary, details: r };
    },
  };
}

/** The design backfill "Rebuild search index from PostgreSQL"; idempotent, newest position wins. */
export function rebuildGeoJob(deps: Pick<OpsJobDeps, 'geo'>): Job {
  return {
    name: 'rebuild-geo',
    description:
      'put online drivers with a recent stored position (GEO_REBUILD_MAX_AGE_MS) back into the geo index, e.g. after Redis lost its data',
    everyMs: 10 * 60_000,
    async run(ctx) {
      const r = await rebuildGeoIndex({
        db: ctx.db,
        geo: deps.geo,
        clock: { now: () => ctx.now },
        maxAgeMs: ctx.config.geoRebuildMaxAgeMs,
        log: ctx.log,
        dryRun: ctx.dryRun,
      });
      return { summary: r.summary, details: r };
    },
  };
}

export function opsJobs(deps: OpsJobDeps): Job[] {
  return [stuckOrdersJob(deps), rebuildGeoJob(deps)];
}
