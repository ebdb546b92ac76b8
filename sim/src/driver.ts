import { decideOffer } from './decisions.ts';
import type { SimContext } from './context.ts';
import { distanceM, offset, round6, type Point } from './geo.ts';
import { ApiError } from './http.ts';
import { Mover, type VehicleType } from './movement.ts';
import type { Rng } from './rng.ts';
import { SimSocket, type ChannelEventMsg } from './socket.ts';
import { repeatWithTimers } from './wheel.ts';
import { recordMs } from './stats.ts';

export interface DriverAccount {
  id: string;
  email: string;
  token: string;
  vehicleType: VehicleType;
}

interface Job {
  orderId: string;
  pickup: Point;
  dropoff: Point;
  ready: boolean;
  pickedUp: boolean;
}

type Phase = 'idle' | 'roam' | 'to_pickup' | 'at_pickup' | 'to_dropoff' | 'at_dropoff';

/** Tick of the movement model, real milliseconds. */
const TICK_MS = 1_000;
/** A simulated driver carries at most this many orders (the server's default limit is 2). */
const MAX_JOBS = 2;
/**
 * While waiting at the store, how often the app asks for the order's status (real ms). The
 * socket brings `ready_for_pickup`; the poll is a phone app's background refresh in case an
 * event was missed, not a substitute for the push (every 15 s it was five GETs an order).
 */
const READY_POLL_MS = 60_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isPoint = (v: unknown): v is Point =>
  isObject(v) && typeof v.lat === 'number' && typeof v.lng === 'number';

/**
 * Whether a refused answer to an offer is this driver's own earlier answer: a retry whose first
 * attempt went through (its reply lost to a time-out) gets 409 with the status the offer has.
 */
export function answeredBefore(err: unknown, accept: boolean): boolean {
  return (
    err instanceof ApiError &&
    err.status === 409 &&
    err.detail('offerStatus') === (accept ? 'accepted' : 'rejected')
  );
}

export interface DriverOptions {
  /** Goes online over HTTP before opening its socket (false: a reporter that only reports). */
  goOnline: boolean;
  moves: boolean;
  /**
   * Moves only when it reports, not on its own one-second timer: for the benchmark's
   * thousands of reporters, where the timers would cost the load generator three times the
   * callbacks for positions nobody sees in between.
   */
  tickOnReport?: boolean;
}

/**
 * A driver with a phone: goes online, reports its position over the socket every few seconds
 * (with `seq`, counting acks), answers offers after a hesitation with the configured
 * probability, drives to the store, waits for the food, picks up, drives to the door, delivers.
 */
export class VirtualDriver {
  readonly mover: Mover;
  online = false;
  phase: Phase = 'idle';
  /** The last position the server acknowledged (for the no-loss check). */
  lastAcked: { seq: number; lat: number; lng: number } | null = null;
  sent = 0;
  acked = 0;
  private socket: SimSocket | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; lat: number; lng: number }>();
  private jobs: Job[] = [];
  private waitUntil = 0;
  private busy = false;
  private lastPoll = 0;
  private readonly offerTimers = new Map<string, { orderId: string; timer: NodeJS.Timeout }>();
  private cancelTicks: (() => void) | undefined;
  private cancelReports: (() => void) | undefined;
  private lastTick = 0;

  constructor(
    readonly account: DriverAccount,
    start: Point,
    private readonly rng: Rng,
    private readonly ctx: SimContext,
    private readonly index: number,
    private readonly opts: DriverOptions = { goOnline: true, moves: true },
  ) {
    this.mover = new Mover(account.vehicleType, start, rng.fork('move'));
  }

  get connected(): boolean {
    return this.socket?.isReady ?? false;
  }

  get jobCount(): number {
    return this.jobs.length;
  }

  async start(): Promise<void> {
    if (this.opts.goOnline) {
      while (!this.online && !this.ctx.stopped()) {
        try {
          await this.ctx.api.post('/api/v1/driver/go-online', {
            token: this.account.token,
            body: round6(this.mover.position),
            retry: true,
          });
          this.online = true;
        } catch (err) {
          this.ctx.counters.inc('driver.go_online_failed');
          if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
            this.ctx.log(`driver ${this.account.email}: ${err.message}; left out`);
            return;
          }
          await new Promise((r) => setTimeout(r, 2_000 + this.rng.next() * 3_000));
        }
      }
    }
    if (this.ctx.stopped()) return;
    this.socket = new SimSocket(
      this.ctx.wsUrl,
      this.account.token,
      this.ctx.counters,
      {
        onEvent: (e) => this.onEvent(e),
        onAck: (seq, at) => this.onAck(seq, at),
        onLocationError: (seq, code) => this.onLocationError(seq, code),
        onDisconnect: () => this.onDisconnect(),
      },
      {
        localAddress: this.ctx.localAddress(this.index),
        random: () => this.rng.next(),
        dial: this.ctx.dial,
      },
    );
    this.socket.subscribe(`driver:${this.account.id}`);
    for (const job of this.jobs) this.socket.subscribe(`order:${job.orderId}`);
    this.socket.start();
    this.lastTick = Date.now();
    this.waitUntil = this.lastTick + this.rng.float(0, 20_000) / this.ctx.timeScale;
    const repeat = this.ctx.repeat ?? repeatWithTimers;
    if (!this.opts.tickOnReport) this.cancelTicks = repeat(TICK_MS, TICK_MS, () => this.tick());
    // Spread the fleet's reports evenly over the interval instead of in one burst.
    const every = this.ctx.locationEveryMs;
    this.cancelReports = repeat(every, this.rng.float(0, every), () => this.sendLocation());
  }

  async stop(goOffline: boolean): Promise<void> {
    this.cancelTicks?.();
    this.cancelReports?.();
    for (const { timer } of this.offerTimers.values()) clearTimeout(timer);
    this.offerTimers.clear();
    this.socket?.stop();
    if (goOffline && this.online) {
      await this.ctx.api
        .post('/api/v1/driver/go-offline', { token: this.account.token })
        .catch(() => undefined);
      this.online = false;
    }
  }

  /** Stops position reports; the socket stays open so outstanding acks can still arrive. */
  stopReporting(): void {
    this.cancelReports?.();
  }

  /** Locations sent but neither acked nor refused yet. */
  get unacked(): number {
    return this.pending.size;
  }

  sendLocation(): void {
    if (!this.socket) return;
    if (this.opts.tickOnReport) this.tick();
    if (!this.socket.isReady) {
      // Not signed in (yet or any more): a phone would buffer; the benchmark counts it.
      this.ctx.counters.inc('location.not_connected');
      return;
    }
    const p = round6(this.mover.position);
    const seq = ++this.seq;
    const ok = this.socket.send({
      type: 'location',
      lat: p.lat,
      lng: p.lng,
      heading: Math.round(this.mover.heading),
      speedMps: Math.round(this.mover.speedMps * 10) / 10,
      accuracyM: Math.round(this.rng.float(3, 15)),
      recordedAt: new Date().toISOString(),
      seq,
    });
    if (!ok) {
      this.ctx.counters.inc('location.not_connected');
      return;
    }
    this.sent += 1;
    this.ctx.counters.inc('location.sent');
    this.pending.set(seq, { at: performance.now(), lat: p.lat, lng: p.lng });
  }

  private onAck(seq: number, _at: number): void {
    const p = this.pending.get(seq);
    if (!p) {
      this.ctx.counters.inc('location.unknown_ack');
      return;
    }
    this.pending.delete(seq);
    this.acked += 1;
    this.ctx.counters.inc('location.acked');
    this.ctx.histograms.ack.recordValue(Math.max(1, Math.round((performance.now() - p.at) * 1000)));
    if (!this.lastAcked || seq > this.lastAcked.seq)
      this.lastAcked = { seq, lat: p.lat, lng: p.lng };
  }

  private onLocationError(seq: number, code: string): void {
    if (this.pending.delete(seq)) this.ctx.counters.inc(`location.refused.${code}`);
  }

  private onDisconnect(): void {
    // What was in flight when the socket died is unknown: count it, never pretend it was acked.
    if (this.pending.size)
      this.ctx.counters.inc('location.in_flight_at_disconnect', this.pending.size);
    this.pending.clear();
  }

  private onEvent(e: ChannelEventMsg): void {
    const data = isObject(e.data) ? e.data : {};
    if (e.channel.startsWith('driver:')) {
      switch (e.type) {
        case 'offer.new':
          return this.onOffer(data);
        case 'offer.expired':
        case 'offer.cancelled':
          return this.forgetOffer(data);
        case 'order.unassigned':
          if (typeof data.orderId === 'string') this.dropJob(data.orderId);
          return;
        default:
          return;
      }
    }
    if (e.type === 'order.status' && typeof data.orderId === 'string') {
      const job = this.jobs.find((j) => j.orderId === data.orderId);
      if (!job) return;
      if (data.status === 'ready_for_pickup') job.ready = true;
      if (data.status === 'cancelled') {
        this.ctx.orders.onCancelled(job.orderId);
        this.dropJob(job.orderId);
      }
    }
  }

  private onOffer(data: Record<string, unknown>): void {
    const offerId = data.id;
    const orderId = data.orderId;
    if (typeof offerId !== 'string' || typeof orderId !== 'string') {
      this.ctx.counters.inc('offers.malformed');
      return;
    }
    if (this.offerTimers.has(offerId)) return;
    this.ctx.counters.inc('offers.received');
    const offeredAt = typeof data.offeredAt === 'string' ? Date.parse(data.offeredAt) : NaN;
    if (Number.isFinite(offeredAt))
      recordMs(this.ctx.histograms.offerReach, Date.now() - offeredAt);
    const decision = decideOffer(this.rng, this.ctx.offerPolicy);
    const full = this.jobs.length >= MAX_JOBS;
    const expiresAt = typeof data.expiresAt === 'string' ? Date.parse(data.expiresAt) : NaN;
    let delay = decision.delayMs / this.ctx.timeScale;
    if (Number.isFinite(expiresAt))
      delay = Math.min(delay, Math.max(0, expiresAt - Date.now() - 1_500));
    const accept = decision.accept && !full;
    const timer = setTimeout(() => {
      this.offerTimers.delete(offerId);
      void this.answerOffer(offerId, orderId, accept, data);
    }, delay);
    this.offerTimers.set(offerId, { orderId, timer });
  }

  private forgetOffer(data: Record<string, unknown>): void {
    for (const [offerId, t] of this.offerTimers) {
      if (offerId === data.offerId || t.orderId === data.orderId) {
        clearTimeout(t.timer);
        this.offerTimers.delete(offerId);
        this.ctx.counters.inc('offers.withdrawn');
      }
    }
  }

  private async answerOffer(
    offerId: string,
    orderId: string,
    accept: boolean,
    offer: Record<string, unknown>,
  ): Promise<void> {
    if (this.ctx.stopped()) return;
    const path = `/api/v1/driver/offers/${offerId}/${accept ? 'accept' : 'reject'}`;
    const started = performance.now();
    try {
      await (this.ctx.answers ?? this.ctx.api).post(path, {
        token: this.account.token,
        retry: true,
      });
      recordMs(this.ctx.histograms.offerAnswer, performance.now() - started);
    } catch (err) {
      recordMs(this.ctx.histograms.offerAnswer, performance.now() - started);
      if (!answeredBefore(err, accept)) {
        const code = err instanceof ApiError ? err.code : 'UNKNOWN';
        this.ctx.counters.inc(`offers.answer_failed.${code}`);
        return;
      }
      this.ctx.counters.inc('offers.answer_replied_late');
    }
    if (!accept) {
      this.ctx.counters.inc('offers.rejected');
      return;
    }
    this.ctx.counters.inc('offers.accepted');
    this.ctx.orders.onAssigned(orderId, Date.now());
    const pickup = isPoint(offer.pickup) ? offer.pickup : this.mover.position;
    const dropoff = isPoint(offer.dropoff) ? offer.dropoff : this.mover.position;
    this.jobs.push({
      orderId,
      pickup: { ...pickup },
      dropoff: { ...dropoff },
      ready: false,
      pickedUp: false,
    });
    this.socket?.subscribe(`order:${orderId}`);
    if (this.phase === 'idle' || this.phase === 'roam') this.beginJob();
  }

  private dropJob(orderId: string): void {
    const i = this.jobs.findIndex((j) => j.orderId === orderId);
    if (i < 0) return;
    const wasCurrent = i === 0;
    this.jobs.splice(i, 1);
    this.socket?.unsubscribe(`order:${orderId}`);
    if (wasCurrent) this.nextJob();
  }

  private beginJob(): void {
    const job = this.jobs[0];
    if (!job) return this.goIdle();
    this.phase = job.pickedUp ? 'to_dropoff' : 'to_pickup';
    this.mover.setTarget(job.pickedUp ? job.dropoff : job.pickup);
  }

  private nextJob(): void {
    if (this.jobs.length) this.beginJob();
    else this.goIdle();
  }

  private goIdle(): void {
    this.phase = 'idle';
    this.mover.setTarget(null);
    this.waitUntil = Date.now() + this.rng.float(20_000, 120_000) / this.ctx.timeScale;
  }

  /** Moves the world on by the real time since the last tick, times the time scale. */
  tick(): void {
    const now = Date.now();
    const dtS = ((now - this.lastTick) / 1000) * this.ctx.timeScale;
    this.lastTick = now;
    if (this.busy || this.ctx.stopped()) return;
    const job = this.jobs[0];
    switch (this.phase) {
      case 'idle':
        if (this.opts.moves && now >= this.waitUntil) this.roam();
        return;
      case 'roam':
        if (this.mover.step(dtS).arrived) this.goIdle();
        return;
      case 'to_pickup':
        if (this.mover.step(dtS).arrived) {
          this.phase = 'at_pickup';
          this.waitUntil = now + this.rng.float(20_000, 90_000) / this.ctx.timeScale;
        }
        return;
      case 'at_pickup':
        if (!job) return this.nextJob();
        if (job.ready && now >= this.waitUntil) void this.pickUp(job);
        else if (!job.ready && now - this.lastPoll > READY_POLL_MS) void this.poll(job);
        return;
      case 'to_dropoff':
        if (this.mover.step(dtS).arrived) {
          this.phase = 'at_dropoff';
          this.waitUntil = now + this.rng.float(30_000, 120_000) / this.ctx.timeScale;
        }
        return;
      case 'at_dropoff':
        if (!job) return this.nextJob();
        if (now >= this.waitUntil) void this.deliver(job);
        return;
    }
  }

  private roam(): void {
    const a = this.ctx.area;
    // Wander a few hundred metres to 2 km, staying inside the simulated area.
    let target = offset(this.mover.position, this.rng.float(0, 360), this.rng.float(300, 2_000));
    if (distanceM(target, a.centre) > a.radiusM) {
      target = offset(a.centre, this.rng.float(0, 360), this.rng.float(0, a.radiusM * 0.8));
    }
    this.phase = 'roam';
    this.mover.setTarget(target);
  }

  /** Asks about the order in case an event was missed (e.g. across a reconnect). */
  private async poll(job: Job): Promise<void> {
    this.lastPoll = Date.now();
    try {
      const { order } = await this.ctx.api.get<{ order: { status: string } }>(
        `/api/v1/orders/${job.orderId}`,
        this.account.token,
      );
      if (order.status === 'ready_for_pickup') job.ready = true;
      if (order.status === 'cancelled') {
        this.ctx.orders.onCancelled(job.orderId);
        this.dropJob(job.orderId);
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.dropJob(job.orderId);
    }
  }

  private async pickUp(job: Job): Promise<void> {
    this.busy = true;
    try {
      await this.ctx.api.post(`/api/v1/driver/orders/${job.orderId}/picked-up`, {
        token: this.account.token,
        retry: true,
      });
      job.pickedUp = true;
      this.ctx.counters.inc('orders.picked_up');
      this.beginJob();
    } catch (err) {
      this.ctx.counters.inc(
        `driver.pickup_failed.${err instanceof ApiError ? err.code : 'UNKNOWN'}`,
      );
      await this.reconcile(job);
    } finally {
      this.busy = false;
    }
  }

  private async deliver(job: Job): Promise<void> {
    this.busy = true;
    try {
      await this.ctx.api.post(`/api/v1/driver/orders/${job.orderId}/delivered`, {
        token: this.account.token,
        retry: true,
      });
      this.ctx.orders.onDelivered(job.orderId, Date.now());
      this.dropJob(job.orderId);
    } catch (err) {
      this.ctx.counters.inc(
        `driver.deliver_failed.${err instanceof ApiError ? err.code : 'UNKNOWN'}`,
      );
      await this.reconcile(job);
    } finally {
      this.busy = false;
    }
  }

  /** After a refused move: look at the order and carry on from where it really is. */
  private async reconcile(job: Job): Promise<void> {
    try {
      const { order } = await this.ctx.api.get<{
        order: { status: string; driverId: string | null };
      }>(`/api/v1/orders/${job.orderId}`, this.account.token);
      if (order.driverId !== this.account.id || order.status === 'cancelled') {
        if (order.status === 'cancelled') this.ctx.orders.onCancelled(job.orderId);
        return this.dropJob(job.orderId);
      }
      if (order.status === 'delivered') {
        this.ctx.orders.onDelivered(job.orderId, Date.now());
        return this.dropJob(job.orderId);
      }
      if (order.status === 'picked_up' && !job.pickedUp) {
        job.pickedUp = true;
        this.beginJob();
      }
      // Otherwise the next tick tries again.
      this.waitUntil = Date.now() + 5_000;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.dropJob(job.orderId);
      else this.waitUntil = Date.now() + 5_000;
    }
  }
}
