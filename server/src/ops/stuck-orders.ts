import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import { DomainError } from '../errors.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { Clock } from '../platform/clock.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';

/**
 * The design's runbook "Orders stuck in processing", as a sweep (scheduled, or by hand):
 *
 * 1. `pending` longer than `pendingCancelMs` (the store never confirmed): cancelled through the
 *    state machine by actor `system`, so the audit row, the customer's and store's notices and
 *    the live events are those of any cancellation.
 * 2. Driverless `confirmed`/`preparing`/`ready_for_pickup` whose dispatch is not running
 *    (state `idle`, `stopped` or `assigned` without a driver) `redispatchAfterMs` after
 *    confirmation: dispatch restarts (`searching`, due now), with an audit row. A dispatch that is
 *    running but overdue (no instance sweeps) is reported and the local sweeper kicked.
 * 3. Still without a driver `flagAfterMs` after confirmation: flagged for an operator
 *    (`needs_attention_at`, shown by the admin API) and announced on the `fleet` channel.
 * 4. With a driver, no status change for `noProgressMs`: flagged the same way.
 *
 * Every step is a compare-and-set, so running two sweeps at once (or a sweep racing a merchant
 * or the dispatch sweeper) acts at most once per order.
 */
export interface StuckSettings {
  pendingCancelMs: number;
  redispatchAfterMs: number;
  flagAfterMs: number;
  noProgressMs: number;
}

export interface StuckOrdersDeps {
  db: Db;
  clock: Clock;
  settings: StuckSettings;
  /** The state machine: cancellations go through `transition` (audit row, notices, events). */
  orders: Pick<OrdersService, 'transition'>;
  /** Announces flagged orders on `fleet` (admins' live view). */
  publisher?: Pick<ChannelPublisher, 'publish'>;
  /** The local dispatch sweeper, asked to run soon after a restart (any instance's picks it up). */
  dispatch?: { kick(): void };
  log?: Logger;
  /** Report what would be done, change nothing. */
  dryRun?: boolean;
  /** At most this many orders per step and run (the next run takes the rest). */
  limit?: number;
}

export interface StuckOrdersReport {
  job: 'stuck-orders';
  at: string;
  dryRun: boolean;
  cancelled: string[];
  redispatched: Array<{ orderId: string; dispatchWas: string }>;
  /** Dispatch running but overdue by more than `redispatchAfterMs`: is any instance sweeping? */
  overdue: string[];
  flagged: Array<{ orderId: string; reason: string }>;
  /** Changed by someone else between the look and the act (a merchant confirmed, ...). */
  raced: string[];
  summary: string;
}

const ACTIVE_WITHOUT_PICKUP = ['confirmed', 'preparing', 'ready_for_pickup'];

const minutes = (ms: number) =>
  ms >= 3_600_000 && ms % 3_600_000 === 0
    ? `${ms / 3_600_000} h`
    : `${Math.round(ms / 60_000)} min`;

export async function sweepStuckOrders(deps: StuckOrdersDeps): Promise<StuckOrdersReport> {
  const { db, clock, settings, log } = deps;
  const dryRun = deps.dryRun ?? false;
  const limit = deps.limit ?? 200;
  const now = new Date(clock.now());
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const report: StuckOrdersReport = {
    job: 'stuck-orders',
    at: now.toISOString(),
    dryRun,
    cancelled: [],
    redispatched: [],
    overdue: [],
    flagged: [],
    raced: [],
    summary: '',
  };

  // 1. Pending too long: cancel with a notice.
  const pending = await db.query<{ id: string }>(
    `SELECT id FROM orders WHERE status = 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2`,
    [ago(settings.pendingCancelMs), limit],
  );
  const reason = `not confirmed by the store within ${minutes(settings.pendingCancelMs)}`;
  for (const { id } of pending.rows) {
    if (dryRun) {
      report.cancelled.push(id);
      continue;
    }
    try {
      await deps.orders.transition(id, 'cancelled', { id: null, role: 'system' }, {}, reason);
      report.cancelled.push(id);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      report.raced.push(id); // confirmed or cancelled meanwhile
    }
  }

  // 2. Driverless, dispatch not running: restart it. Overdue running dispatch: report, kick.
  const redispatchBefore = ago(settings.redispatchAfterMs);
  const notRunning = await db.query<{ id: string; dispatch_status: string }>(
    `SELECT id, dispatch_status FROM orders
     WHERE status = ANY($1::text[]) AND driver_id IS NULL
       AND dispatch_status NOT IN ('searching', 'offered') AND confirmed_at < $2
     ORDER BY confirmed_at LIMIT $3`,
    [ACTIVE_WITHOUT_PICKUP, redispatchBefore, limit],
  );
  for (const row of notRunning.rows) {
    if (dryRun) {
      report.redispatched.push({ orderId: row.id, dispatchWas: row.dispatch_status });
      continue;
    }
    const restarted = await db.transaction(async (tx) => {
      // A pending offer left behind stays valid: the sweeper expires or keeps it.
      const { rows } = await tx.query<{ status: string }>(
        `UPDATE orders SET
           dispatch_status = CASE WHEN EXISTS (SELECT 1 FROM driver_offers f
             WHERE f.order_id = orders.id AND f.status = 'pending') THEN 'offered' ELSE 'searching' END,
           dispatch_started_at = $2, dispatch_next_at = $2, dispatch_attempts = 0, updated_at = now()
         WHERE id = $1 AND driver_id IS NULL AND status = ANY($3::text[])
           AND dispatch_status = $4
         RETURNING status`,
        [row.id, now, ACTIVE_WITHOUT_PICKUP, row.dispatch_status],
      );
      const moved = rows[0];
      if (!moved) return false;
      await tx.query(
        `INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role, reason, data)
         VALUES ($1, $2, $2, NULL, 'system', 'stuck: dispatch restarted', jsonb_build_object('dispatchWas', $3::text))`,
        [row.id, moved.status, row.dispatch_status],
      );
      return true;
    });
    if (restarted) report.redispatched.push({ orderId: row.id, dispatchWas: row.dispatch_status });
    else report.raced.push(row.id);
  }
  const overdue = await db.query<{ id: string }>(
    `SELECT id FROM orders
     WHERE dispatch_status IN ('searching', 'offered') AND dispatch_next_at < $1
       AND status = ANY($2::text[]) AND driver_id IS NULL
     ORDER BY dispatch_next_at LIMIT $3`,
    [redispatchBefore, ACTIVE_WITHOUT_PICKUP, limit],
  );
  report.overdue = overdue.rows.map((r) => r.id);
  if (report.overdue.length) {
    log?.warn(
      { orders: report.overdue.length },
      'dispatch is overdue: is any instance running with DISPATCH_ENABLED and a closed breaker?',
    );
  }
  if (!dryRun && (report.redispatched.length || report.overdue.length)) deps.dispatch?.kick();

  // 3 and 4. Flag for an operator: no driver long after confirmation; no progress with a driver.
  const noDriverReason = `no driver ${minutes(settings.flagAfterMs)} after confirmation`;
  const noProgressReason = `no status change for ${minutes(settings.noProgressMs)}`;
  const flag = async (where: string, params: unknown[], why: (status: string) => string) => {
    const select = `SELECT id, status FROM orders WHERE needs_attention_at IS NULL AND ${where}
                    ORDER BY updated_at LIMIT ${Number(limit)}`;
    const { rows } = await db.query<{ id: string; status: string }>(select, params);
    for (const r of rows) {
      const reason = why(r.status);
      if (!dryRun) {
        const res = await db.query(
          `UPDATE orders SET needs_attention_at = $2, attention_reason = $3
           WHERE id = $1 AND needs_attention_at IS NULL AND status = $4`,
          [r.id, now, reason, r.status],
        );
        if (res.rowCount !== 1) {
          report.raced.push(r.id);
          continue;
        }
        await deps.publisher
          ?.publish('fleet', 'order.needs_attention', { orderId: r.id, reason })
          .catch((err: unknown) => log?.warn({ err, orderId: r.id }, 'fleet alert not published'));
      }
      report.flagged.push({ orderId: r.id, reason });
    }
  };
  await flag(
    `status = ANY($1::text[]) AND driver_id IS NULL AND confirmed_at < $2`,
    [ACTIVE_WITHOUT_PICKUP, ago(settings.flagAfterMs)],
    () => noDriverReason,
  );
  await flag(
    `status IN ('confirmed', 'preparing', 'ready_for_pickup', 'picked_up') AND driver_id IS NOT NULL
     AND CASE status WHEN 'confirmed' THEN confirmed_at WHEN 'preparing' THEN preparing_at
                     WHEN 'ready_for_pickup' THEN ready_at WHEN 'picked_up' THEN picked_up_at END < $1`,
    [ago(settings.noProgressMs)],
    (status) => `${noProgressReason} (${status})`,
  );

  const would = dryRun ? 'would be ' : '';
  report.summary =
    `${report.cancelled.length} ${would}cancelled, ${report.redispatched.length} ${would}re-dispatched, ` +
    `${report.overdue.length} overdue, ${report.flagged.length} ${would}flagged` +
    (report.raced.length ? `, ${report.raced.length} changed meanwhile` : '');
  if (report.cancelled.length || report.redispatched.length || report.flagged.length)
    log?.info({ report }, 'stuck orders handled');
  return report;
}
