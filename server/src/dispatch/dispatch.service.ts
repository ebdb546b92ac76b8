import { randomUUID } from 'node:crypto';
import type { Order } from '@delivery/contracts';
import type CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import type { GeoIndex } from '../adapters/ports.ts';
import type { Db, Tx } from '../db/db.ts';
import { DomainError, notFound } from '../errors.ts';
import {
  driverAssignments,
  geoQueryDuration,
  matchingDuration,
  offersPerAssignment,
} from '../metrics/metrics.ts';
import { findOrder } from '../orders/orders.repository.ts';
import type { TransitionListener } from '../orders/orders.service.ts';
import type { Clock } from '../platform/clock.ts';
import { Crew } from '../platform/crew.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { createBreaker, DISPATCH_BREAKER, type BreakerOptions } from './breaker.ts';
import * as repo from './dispatch.repository.ts';
import { findPendingOfferView, newOfferView } from './offers.repository.ts';
import { rankCandidates } from './scoring.ts';

export interface DispatchSettings {
  /** Whether this instance sweeps at all (kicks included); other instances may. */
  enabled: boolean;
  /**
   * Due orders worked on at once by this process, each claimed in its own transaction with
   * SKIP LOCKED (default 1). A step waits on several round trips, so more claimers match more
   * orders per second; each holds a connection of the sweep's pool while it works.
   */
  concurrency?: number;
  /** The sweep interval: abandoned orders are looked for at most this often. */
  tickMs?: number;
  offerTimeoutMs: number;
  ringsKm: readonly number[];
  retryMaxMs: number;
  flagAfterMs: number;
  driverStaleMs: number;
  offlineFlagMs: number;
}

/** A message for a person, stored and pushed (implemented by the notifications module). */
export type Notify = (
  tx: Tx,
  n: {
    userId: string;
    type: string;
    title: string;
    body: string;
    orderId: string | null;
    channel: string;
    /** Stored and pushed only if this offer exists by then. */
    ifOfferExists?: string;
  },
) => Promise<void>;

export interface DispatchDeps {
  db: Db;
  /** Where the sweep claims and steps orders (its own pool in production); defaults to `db`. */
  sweepDb?: Db;
  geo: GeoIndex;
  publisher: ChannelPublisher;
  clock: Clock;
  settings: DispatchSettings;
  log: Logger;
  notify?: Notify;
  /** Called after an assignment or release commits (tracking caches). */
  onAssignmentChange?: (orderId: string, driverIds: Array<string | null>) => Promise<void>;
  breaker?: BreakerOptions;
}

interface Candidate {
  id: string;
  distanceKm: number;
  score: number;
}

export type DispatchService = ReturnType<typeof createDispatchService>;

/**
 * How long a claimer may search for an order's candidates before another may take it over.
 * A search takes well under a second even under load; the lease only matters when a process
 * dies mid-step, and then the order waits this long.
 */
export const LEASE_MS = 15_000;

/** How many of the nearest drivers a ring search looks at, in turn, before the ring widens. */
export const SEARCH_COUNTS = [100, 1_000] as const;

/**
 * Matching: sequential, scored offers with a deadline. Every piece of state (whose turn it is,
 * when the offer expires, who declined) lives in PostgreSQL; any instance's sweeper may do the
 * next step. A lease taken with SKIP LOCKED makes sure only one does, and the order's row is
 * locked only for the offer itself, not through the search (a store's status change waits on
 * that lock).
 */
export function createDispatchService(deps: DispatchDeps) {
  const { db, geo, publisher, clock, settings, log } = deps;
  const sweepDb = deps.sweepDb ?? db;
  const maxRadius = Math.max(...settings.ringsKm);
  const now = () => new Date(clock.now());
  const changed = (orderId: string, drivers: Array<string | null>) =>
    deps.onAssignmentChange?.(orderId, drivers);

  /** Eligible drivers best first, each with its distance to the store. */
  function rank(eligible: repo.EligibleDriver[], distance: Map<string, number>): Candidate[] {
    const ranked = rankCandidates(
      eligible.map((d) => ({
        id: d.id,
        distanceKm: distance.get(d.id)!,
        rating: d.rating,
        offersReceived: d.offers_received,
        offersAccepted: d.offers_accepted,
        activeOrders: d.active_orders,
        maxActiveOrders: d.max_active_orders,
      })),
      maxRadius,
    );
    return ranked.map((c) => ({ id: c.id, distanceKm: c.distanceKm, score: c.score.total }));
  }

  /**
   * Nearby, fresh, eligible drivers for an order, best first. Within a ring it first looks at
   * the nearest SEARCH_COUNTS[0] drivers of the geo index, then at more: at a busy hour the
   * nearest hundred may all be carrying orders or answering other offers while free drivers
   * wait a little further out. Only when a whole ring holds nobody eligible does it widen.
   */
  async function findCandidates(order: repo.DueOrder): Promise<Candidate[]> {
    const freshAfter = clock.now() - settings.driverStaleMs;
    for (const radius of settings.ringsKm) {
      for (const count of SEARCH_COUNTS) {
        const started = performance.now();
        const hits = await geo.search({ lat: order.m_lat, lng: order.m_lng }, radius, count);
        geoQueryDuration.observe((performance.now() - started) / 1000);
        const fresh = hits.filter((h) => h.at >= freshAfter);
        const distance = new Map(fresh.map((h) => [h.id, h.distanceKm]));
        const eligible = fresh.length
          ? await repo.eligibleDrivers(sweepDb, order.id, [...distance.keys()])
          : [];
        if (eligible.length > 0) return rank(eligible, distance);
        if (hits.length < count) break; // this ring holds no one else
      }
    }
    return [];
  }

  const breaker: CircuitBreaker<[repo.DueOrder], Candidate[]> = createBreaker(
    'driver-matching',
    findCandidates,
    deps.breaker ?? DISPATCH_BREAKER,
  );

  /**
   * One step for one leased order: expire a lapsed offer, then offer the best of the candidates
   * searched for it under its lease (the insert skips any who got another offer meanwhile).
   * Every write is conditioned on the lease, so none changes anything once it is void. The
   * order's lock, the expiry, the offer to the best candidate, that driver's notification (kept
   * only if the offer was made) and COMMIT go out in one flight: one round trip for the usual
   * step. Only if that offer was not made does a second transaction go through the other
   * candidates one by one. Answers false when the lease was void.
   */
  async function step(
    order: repo.DueOrder,
    leasedUntil: Date,
    candidates: Candidate[],
  ): Promise<boolean> {
    const t = now();
    const expiresAt = new Date(t.getTime() + settings.offerTimeoutMs);
    const earnings = order.earnings_cents;
    const wasOffered = order.dispatch_status === 'offered';
    /** Offers the order to `c` and notifies them if it was made; answers the offer's id or null. */
    const offerTo = async (tx: Tx, c: Candidate): Promise<string | null> => {
      const id = randomUUID();
      const [made] = await Promise.all([
        repo.insertOffer(tx, {
          id,
          orderId: order.id,
          leasedUntil,
          driverId: c.id,
          score: c.score,
          distanceKm: c.distanceKm,
          earningsCents: earnings,
          offeredAt: t,
          expiresAt,
        }),
        deps.notify?.(tx, {
          userId: c.id,
          type: 'offer.new',
          title: 'New delivery offer',
          body: `Earn €${(earnings / 100).toFixed(2)}; ${c.distanceKm.toFixed(1)} km to pickup. Answer within ${Math.round(settings.offerTimeoutMs / 1000)} s.`,
          orderId: order.id,
          channel: `driver:${c.id}`,
          ifOfferExists: id,
        }),
      ]);
      if (!made) return null; // the driver got another offer meanwhile (or the order has one)
      const offer = newOfferView(order, {
        id,
        offeredAt: t,
        expiresAt,
        distanceKm: c.distanceKm,
        earningsCents: earnings,
      });
      tx.afterCommit(() => publisher.publish(`driver:${c.id}`, 'offer.new', offer));
      return id;
    };
    const announceExpiry = (tx: Tx, expired: { id: string; driver_id: string } | null) => {
      if (!expired) return;
      tx.afterCommit(() => driverAssignments.inc({ result: 'expired' }));
      tx.afterCommit(() =>
        publisher.publish(`driver:${expired.driver_id}`, 'offer.expired', {
          offerId: expired.id,
          orderId: order.id,
        }),
      );
    };

    let expiredFirst = false;
    const [best, ...others] = candidates;
    if (best) {
      const first = await sweepDb.transaction((tx) =>
        tx.commitWith(
          Promise.all([
            repo.lockLeasedOrder(tx, order.id, leasedUntil),
            wasOffered ? repo.expireDueOffer(tx, order.id, leasedUntil, t) : null,
            offerTo(tx, best),
          ]).then(([locked, expired, offered]) => {
            announceExpiry(tx, expired);
            return { locked, expired: expired !== null, offered: offered !== null };
          }),
        ),
      );
      if (!first.locked) return false; // changed while we searched: its changer kicked a sweep
      if (first.offered) return true;
      expiredFirst = first.expired;
    }
    return sweepDb.transaction(async (tx) => {
      const [locked, expired] = await Promise.all([
        repo.lockLeasedOrder(tx, order.id, leasedUntil),
        wasOffered && !best ? repo.expireDueOffer(tx, order.id, leasedUntil, t) : null,
      ]);
      if (!locked) return false;
      announceExpiry(tx, expired);
      if (wasOffered && !expiredFirst && !expired) {
        // Its offer has not lapsed after all: wait for that one.
        const pending = await repo.pendingOfferOf(tx, order.id);
        if (pending) {
          await repo.setDispatchState(tx, order.id, {
            status: 'offered',
            nextAt: pending.expires_at,
          });
          return true;
        }
      }
      for (const c of others) {
        if (await offerTo(tx, c)) return true;
      }
      tx.afterCommit(() => driverAssignments.inc({ result: 'no_driver' }));
      const attempts = order.dispatch_attempts + 1;
      const backoff = Math.min(1_000 * 2 ** Math.min(attempts - 1, 10), settings.retryMaxMs);
      await repo.setDispatchState(tx, order.id, {
        status: 'searching',
        nextAt: new Date(t.getTime() + backoff),
        attempts,
      });
      const searchingFor = t.getTime() - order.dispatch_started_at.getTime();
      if (
        searchingFor >= settings.flagAfterMs &&
        (await repo.flagOrder(tx, order.id, 'no driver found', t))
      ) {
        await deps.notify?.(tx, {
          userId: order.customer_id,
          type: 'order.delayed',
          title: 'Still looking for a driver',
          body: 'All nearby drivers are busy. We keep trying and an operator has been alerted.',
          orderId: order.id,
          channel: `order:${order.id}`,
        });
        tx.afterCommit(() =>
          publisher.publish('fleet', 'order.needs_attention', {
            orderId: order.id,
            reason: 'no driver found',
          }),
        );
      }
      return true;
    });
  }

  /** Listener on order transitions: start, stop and settle dispatch with the move. */
  const onStatusChange: TransitionListener = async (tx, { order, to }) => {
    const t = now();
    if (to === 'confirmed' && order.driver_id === null) {
      await tx.query(
        `UPDATE orders SET dispatch_status = 'searching', dispatch_started_at = $2, dispatch_next_at = $2,
           dispatch_attempts = 0 WHERE id = $1`,
        [order.id, t],
      );
      tx.afterCommit(() => kick());
    } else if (to === 'cancelled' || to === 'delivered') {
      // Three independent writes, sent together.
      const [offered] = await Promise.all([
        repo.cancelPendingOffers(tx, order.id, t),
        tx.query(
          `UPDATE orders SET dispatch_status = 'stopped', dispatch_next_at = NULL,
             needs_attention_at = NULL, attention_reason = NULL WHERE id = $1`,
          [order.id],
        ),
        order.driver_id ? repo.releaseDriver(tx, order.driver_id, to === 'delivered') : null,
      ]);
      tx.afterCommit(async () => {
        for (const d of offered)
          await publisher.publish(`driver:${d}`, 'offer.cancelled', { orderId: order.id });
        await changed(order.id, [order.driver_id]);
      });
    } else {
      tx.afterCommit(() => changed(order.id, [order.driver_id]));
    }
  };

  let kickScheduled = false;
  let kickedWhileRunning = false;
  let lastAbandonedCheck = -Infinity;
  let running: Promise<number> | null = null;
  /** Set by `stop()`: no sweep starts any more, and one in progress takes no further order. */
  let stopped = false;
  /** Asks the local sweeper to run soon (a hint only: the database is the source of truth). */
  function kick() {
    if (kickScheduled || stopped || !settings.enabled) return;
    if (running) {
      kickedWhileRunning = true; // the sweep may have looked already: it runs once more
      return;
    }
    kickScheduled = true;
    setImmediate(() => {
      kickScheduled = false;
      void tick().catch((err: unknown) => log.warn({ err }, 'dispatch tick failed'));
    });
  }

  /**
   * Processes due orders until none is left (at most `limit`); returns how many it handled.
   * Up to `concurrency` claimers work side by side, each leasing the next due order no one
   * else holds, searching its candidates with no lock held, then locking it only to make the
   * offer; one sweep runs per process at a time. The sweep starts with one claimer and another
   * joins each time an order is leased, so a sweep that finds nothing due (most of them: every
   * status change kicks one) costs one statement, not `concurrency`.
   */
  async function tick(limit = 50): Promise<number> {
    if (running) return running;
    if (stopped) return 0;
    running = (async () => {
      let handled = 0;
      let claimed = 0;
      let failing = false; // after one failure the others stop: the next sweep tries again
      // A half-open breaker lets a single trial through: one claimer until it has closed.
      const parallel = breaker.closed ? (settings.concurrency ?? 1) : 1;
      const workers = Math.max(1, Math.min(parallel, limit));
      const claimers = new Crew();
      const join = () => claimers.start(claimer, () => (failing = true)); // a failed claim or commit
      /** Gives a failed step's lease back, so the order is due again at once. */
      const release = (orderId: string, leasedUntil: Date) =>
        repo.releaseLease(sweepDb, orderId, leasedUntil, now()).catch((err: unknown) => {
          log.warn({ err, orderId }, 'dispatch lease not released; it runs out');
        });
      const claimer = async () => {
        while (claimed < limit && !failing && !stopped) {
          if (breaker.opened) return; // orders stay queued, untouched, until it half-opens
          claimed += 1;
          const t = now();
          const leasedUntil = new Date(t.getTime() + LEASE_MS);
          const order = await repo.leaseDueOrder(sweepDb, t, leasedUntil);
          if (!order) return;
          // A claimer that failed set `failing` before giving its order back: whoever leases
          // that order next sees the flag and leaves it for the next sweep.
          if (failing) return void (await release(order.id, leasedUntil));
          // More may be due: the next claimer starts while this one steps its order.
          if (claimers.size < workers && claimed < limit) join();
          try {
            const candidates = await breaker.fire(order);
            const stepped = await step(order, leasedUntil, candidates);
            if (stepped) handled += 1;
          } catch (err) {
            failing = true; // before the release lets a waiting claimer take this order
            await release(order.id, leasedUntil);
            throw err;
          }
        }
      };
      join();
      // A failing claimer fails the sweep, but only once the others have stopped: no step
      // is left running behind a sweep that reported its end. Claimers join while it waits.
      await claimers.done();
      if (limit > 0 && handled >= limit) kickedWhileRunning = true; // more may be due: go on
      // Abandoned orders are looked for once per tick interval, not on every kicked sweep:
      // under load a sweep runs many times a second and this query scans the open orders.
      if (!stopped && clock.now() - lastAbandonedCheck >= (settings.tickMs ?? 0)) {
        lastAbandonedCheck = clock.now();
        const flagged = await sweepDb.transaction((tx) =>
          repo.flagAbandonedOrders(tx, new Date(clock.now() - settings.offlineFlagMs), now()),
        );
        for (const id of flagged)
          await publisher.publish('fleet', 'order.needs_attention', {
            orderId: id,
            reason: 'driver offline',
          });
      }
      return handled;
    })().finally(() => {
      running = null;
      if (kickedWhileRunning) {
        kickedWhileRunning = false;
        kick();
      }
    });
    return running;
  }

  async function respond(driverId: string, offerId: string, accept: boolean) {
    const t = now();
    /** A refusal, or the order answered (with `order` once accepted: the driver's answer). */
    type Outcome = { error: DomainError } | { orderId: string; order?: Order };
    const outcome = await db.transaction(async (tx): Promise<Outcome> => {
      // Sent together: the offer is read once its order's lock is held (the server runs them in
      // order). Each branch below sends its closing writes with COMMIT, without waiting on them.
      const [, offer] = await Promise.all([
        repo.lockOrderOfOffer(tx, offerId),
        repo.lockOffer(tx, offerId, driverId),
      ]);
      if (!offer) throw notFound('Offer');
      if (offer.status === 'expired' || (offer.status === 'pending' && offer.expires_at <= t)) {
        const error = new DomainError('OFFER_EXPIRED', 'This offer has expired', { offerId });
        if (offer.status !== 'pending') return { error };
        tx.afterCommit(() => {
          driverAssignments.inc({ result: 'expired' });
          kick();
        });
        return tx.commitWith(
          Promise.all([
            repo.closeOffer(tx, offer.id, 'expired', t),
            repo.countOfferResponse(tx, driverId, false),
            tx.query(
              `UPDATE orders SET dispatch_status = 'searching', dispatch_next_at = $2 WHERE id = $1 AND dispatch_status = 'offered'`,
              [offer.order_id, t],
            ),
          ]).then(() => ({ error })),
        );
      }
      if (offer.status !== 'pending') {
        const code = offer.status === 'cancelled' ? 'ORDER_ALREADY_ASSIGNED' : 'OFFER_NOT_PENDING';
        return {
          error: new DomainError(code, `This offer is ${offer.status}`, {
            offerStatus: offer.status,
          }),
        };
      }
      if (!accept) {
        tx.afterCommit(() => {
          driverAssignments.inc({ result: 'rejected' });
          kick();
        });
        return tx.commitWith(
          Promise.all([
            repo.closeOffer(tx, offer.id, 'rejected', t),
            repo.countOfferResponse(tx, driverId, false),
            tx.query(
              `UPDATE orders SET dispatch_status = 'searching', dispatch_next_at = $2 WHERE id = $1`,
              [offer.order_id, t],
            ),
          ]).then(() => ({ orderId: offer.order_id })),
        );
      }
      // The acceptance, the order as the driver now sees it, and COMMIT: one flight.
      const accepted = repo.acceptOffer(tx, {
        offerId: offer.id,
        orderId: offer.order_id,
        driverId,
        now: t,
      });
      const read = findOrder(tx, offer.order_id);
      const settled = Promise.all([accepted, read]).then(([assigned, order]): Outcome => {
        if (!assigned || !order) {
          return {
            error: new DomainError(
              'ORDER_ALREADY_ASSIGNED',
              'Another driver has this order, or it was cancelled',
            ),
          };
        }
        tx.afterCommit(async () => {
          driverAssignments.inc({ result: 'accepted' });
          offersPerAssignment.observe(assigned.offers_count);
          if (assigned.confirmed_at)
            matchingDuration.observe((t.getTime() - assigned.confirmed_at.getTime()) / 1000);
          await publisher.publish(`order:${offer.order_id}`, 'order.assigned', {
            orderId: offer.order_id,
            driverId,
          });
          await changed(offer.order_id, [driverId]);
        });
        return { orderId: offer.order_id, order };
      });
      return tx.commitWith(settled);
    });
    if ('error' in outcome) throw outcome.error;
    return outcome;
  }

  /**
   * Shutdown: waits for the sweep in progress (an order it leased is stepped or given back)
   * and starts none after it, so no step reaches a database pool that is being closed.
   */
  async function stop(): Promise<void> {
    stopped = true;
    await running?.catch(() => 0);
  }

  return {
    onStatusChange,
    tick,
    kick,
    stop,
    breaker,
    /** Accepts the offer; answers the order as the driver now sees it (without its ETA). */
    async accept(driverId: string, offerId: string): Promise<Order> {
      return (await respond(driverId, offerId, true)).order!; // an accepted answer carries it
    },
    reject: (driverId: string, offerId: string) => respond(driverId, offerId, false),
    currentOffer: (driverId: string) => findPendingOfferView(db, driverId, now()),

    /** Going offline withdraws a pending offer so the order moves on at once. */
    async withdrawOffers(driverId: string): Promise<void> {
      const t = now();
      await db.transaction(async (tx) => {
        // Order rows first, then the offers: the lock order every dispatch transaction keeps.
        await tx.query(
          `SELECT id FROM orders WHERE id IN
             (SELECT order_id FROM driver_offers WHERE driver_id = $1 AND status = 'pending')
           FOR UPDATE`,
          [driverId],
        );
        const { rows } = await tx.query<{ order_id: string }>(
          `UPDATE driver_offers SET status = 'cancelled', responded_at = $2
           WHERE driver_id = $1 AND status = 'pending' RETURNING order_id`,
          [driverId, t],
        );
        for (const r of rows) {
          await tx.query(
            `UPDATE orders SET dispatch_status = 'searching', dispatch_next_at = $2 WHERE id = $1`,
            [r.order_id, t],
          );
        }
        if (rows.length) tx.afterCommit(() => kick());
      });
    },

    /** Admin: take the order from its driver and assign it to `driverId`, or search again. */
    async reassign(orderId: string, adminId: string, driverId?: string, reason?: string) {
      const t = now();
      const { previous } = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ driver_id: string | null; status: string }>(
          'SELECT driver_id, status FROM orders WHERE id = $1 FOR UPDATE',
          [orderId],
        );
        const order = rows[0];
        if (!order) throw notFound('Order');
        if (!['confirmed', 'preparing', 'ready_for_pickup'].includes(order.status)) {
          throw new DomainError(
            'INVALID_TRANSITION',
            `An order that is ${order.status} cannot be reassigned`,
            {
              currentStatus: order.status,
            },
          );
        }
        const offered = await repo.cancelPendingOffers(tx, orderId, t);
        if (order.driver_id) await repo.releaseDriver(tx, order.driver_id, false);
        await tx.query(
          `UPDATE orders SET driver_id = NULL, assigned_at = NULL, dispatch_status = 'searching',
             dispatch_started_at = $2, dispatch_next_at = $2, dispatch_attempts = 0,
             needs_attention_at = NULL, attention_reason = NULL WHERE id = $1`,
          [orderId, t],
        );
        if (driverId) {
          const driver = await tx.query(`SELECT 1 FROM drivers WHERE id = $1`, [driverId]);
          if (driver.rowCount === 0)
            throw new DomainError('VALIDATION_FAILED', 'No such driver', { driverId });
          await repo.assignDriver(tx, orderId, driverId, t);
          await deps.notify?.(tx, {
            userId: driverId,
            type: 'order.assigned',
            title: 'An order was assigned to you',
            body: 'An operator assigned you an order. Open your active deliveries for the pickup.',
            orderId,
            channel: `driver:${driverId}`,
          });
        }
        await tx.query(
          `INSERT INTO order_events (order_id, from_status, to_status, actor_id, actor_role, reason, data)
           VALUES ($1, $2, $2, $3, 'admin', $4, jsonb_build_object('from', $5::text, 'to', $6::text))`,
          [
            orderId,
            order.status,
            adminId,
            reason ?? 'reassigned',
            order.driver_id,
            driverId ?? null,
          ],
        );
        tx.afterCommit(async () => {
          for (const d of offered) {
            await publisher.publish(`driver:${d}`, 'offer.cancelled', { orderId });
          }
          if (order.driver_id)
            await publisher.publish(`driver:${order.driver_id}`, 'order.unassigned', { orderId });
          if (driverId) {
            await publisher.publish(`driver:${driverId}`, 'order.assigned', { orderId, driverId });
          }
          await publisher.publish(`order:${orderId}`, 'order.assigned', {
            orderId,
            driverId: driverId ?? null,
          });
          await changed(orderId, [order.driver_id, driverId ?? null]);
          if (!driverId) kick();
        });
        return { previous: order.driver_id };
      });
      return { previousDriverId: previous, driverId: driverId ?? null };
    },
  };
}
