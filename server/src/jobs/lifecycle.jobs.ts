import { expireArchives } from '../lifecycle/archive-expiry.ts';
import { archiveAuditEvents } from '../lifecycle/audit-archive.ts';
import { runLocationRetention } from '../lifecycle/location-retention.ts';
import { archiveOrders } from '../lifecycle/orders-archive.ts';
import { purgeIdempotencyKeys, purgeNotifications } from '../lifecycle/purge.ts';
import { HOUR_MS, type Job } from './job.ts';
import { partitionsJob } from './partitions.job.ts';

/** Counts outcomes by action, e.g. `archived 2, skipped-active 1`. */
const tally = (items: Array<{ action: string }>) => {
  const counts = new Map<string, number>();
  for (const { action } of items) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${a} ${n}`).join(', ') || 'nothing to do';
};

export const ordersArchiveJob: Job = {
  name: 'orders-archive',
  description:
    'export monthly order partitions older than ORDERS_HOT_DAYS (orders, items, events copy) to the archive store, verify, then drop them',
  everyMs: 24 * HOUR_MS,
  needsStore: true,
  async run(ctx) {
    const outcomes = await archiveOrders(ctx.db, await ctx.store(), {
      hotDays: ctx.config.retention.ordersHotDays,
      now: ctx.now,
      dryRun: ctx.dryRun,
      progress: ctx.progress,
      checkpoint: ctx.checkpoint,
    });
    return {
      summary: `partitions: ${tally(outcomes)}`,
      details: outcomes,
      failed: outcomes.some((o) => o.action === 'failed'),
    };
  },
};

export const locationRetentionJob: Job = {
  name: 'location-retention',
  description:
    'roll location history up per driver and day, archive the aggregates, drop raw days older than LOCATION_RAW_DAYS and aggregates older than LOCATION_DAILY_DAYS',
  everyMs: HOUR_MS,
  needsStore: true,
  async run(ctx) {
    const r = await runLocationRetention(ctx.db, await ctx.store(), {
      rawDays: ctx.config.retention.locationRawDays,
      dailyDays: ctx.config.retention.locationDailyDays,
      now: ctx.now,
      dryRun: ctx.dryRun,
      progress: ctx.progress,
      checkpoint: ctx.checkpoint,
    });
    return {
      summary:
        `${r.rolledUp.length} day(s) rolled up, ${r.archived.length} archived, ` +
        `${r.droppedPartitions.length} raw partition(s) dropped, ${r.deletedDefaultRows} default-partition row(s) deleted, ` +
        `${r.deletedAggregateDays.length} aggregate day(s) deleted`,
      details: r,
    };
  },
};

export const auditArchiveJob: Job = {
  name: 'audit-archive',
  description:
    'export order_events older than AUDIT_HOT_DAYS to the archive store, one set per day, verify, then delete them',
  everyMs: 24 * HOUR_MS,
  needsStore: true,
  async run(ctx) {
    const outcomes = await archiveAuditEvents(ctx.db, await ctx.store(), {
      hotDays: ctx.config.retention.auditHotDays,
      now: ctx.now,
      dryRun: ctx.dryRun,
      progress: ctx.progress,
      checkpoint: ctx.checkpoint,
    });
    const rows = outcomes.reduce((n, o) => n + o.rows, 0);
    return {
      summary: `days: ${tally(outcomes)} (${rows} row(s))`,
      details: outcomes,
      failed: outcomes.some((o) => o.action === 'failed'),
    };
  },
};

export const idempotencyPurgeJob: Job = {
  name: 'idempotency-purge',
  description: 'delete idempotency keys older than 24 hours',
  everyMs: 24 * HOUR_MS,
  async run(ctx) {
    const r = await purgeIdempotencyKeys(
      ctx.db,
      ctx.config.retention.idempotencyHours,
      ctx.now,
      ctx.dryRun,
    );
    return { summary: `${r.deleted} key(s) ${ctx.dryRun ? 'would be ' : ''}deleted`, details: r };
  },
};

export const notificationsPurgeJob: Job = {
  name: 'notifications-purge',
  description: 'delete notifications older than NOTIFICATIONS_RETENTION_DAYS (read or not)',
  everyMs: 24 * HOUR_MS,
  async run(ctx) {
    const r = await purgeNotifications(
      ctx.db,
      ctx.config.retention.notificationsDays,
      ctx.now,
      ctx.dryRun,
    );
    return {
      summary: `${r.deleted} notification(s) ${ctx.dryRun ? 'would be ' : ''}deleted`,
      details: r,
    };
  },
};

export const archiveExpiryJob: Job = {
  name: 'archive-expiry',
  description:
    'delete archive sets past retention from the store: orders ARCHIVE_ORDERS_YEARS, audit ARCHIVE_AUDIT_YEARS, location aggregates LOCATION_DAILY_DAYS',
  everyMs: 24 * HOUR_MS,
  needsStore: true,
  async run(ctx) {
    const expired = await expireArchives(await ctx.store(), {
      ordersYears: ctx.config.retention.archiveOrdersYears,
      auditYears: ctx.config.retention.archiveAuditYears,
      locationDays: ctx.config.retention.locationDailyDays,
      now: ctx.now,
      dryRun: ctx.dryRun,
    });
    return {
      summary: `${expired.length} expired folder(s) ${ctx.dryRun ? 'would be ' : ''}deleted`,
      details: expired,
    };
  },
};

/** Every job the scheduler knows, in the order one tick runs them. */
export const ALL_JOBS: readonly Job[] = [
  partitionsJob,
  idempotencyPurgeJob,
  notificationsPurgeJob,
  locationRetentionJob,
  auditArchiveJob,
  ordersArchiveJob,
  archiveExpiryJob,
];
