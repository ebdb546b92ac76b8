import type { OfferPolicy } from './decisions.ts';
import type { Point } from './geo.ts';
import type { Api } from './http.ts';
import type { Dial } from './socket.ts';
import { newHistogram, type Counters, type Histogram } from './stats.ts';
import type { Repeat } from './wheel.ts';

export interface Area {
  centre: Point;
  radiusM: number;
}

/** What every virtual actor of one simulation shares. */
export interface SimContext {
  api: Api;
  /**
   * Where a driver's answers to offers go (default `api`). An answer is due within 30 s; a
   * phone sends it at once, not after its own or other drivers' background requests.
   */
  answers?: Api;
  wsUrl: string;
  counters: Counters;
  histograms: {
    /** Location send → ack, per message. */
    ack: Histogram;
    /** POST /orders round trip (retries included). */
    placement: Histogram;
    /** Merchant confirmed → a driver's accept succeeded (the server's "time to match"). */
    match: Histogram;
    /** Placed → delivered. */
    delivery: Histogram;
    /** Driver's `recordedAt` → customer socket receives `order.driver_location`. */
    fanout: Histogram;
    /** The offer's `offeredAt` (server clock) → its `offer.new` reaches the driver's socket. */
    offerReach: Histogram;
    /** POST accept/reject round trip (retries included); the answer must land within 30 s. */
    offerAnswer: Histogram;
  };
  /** Simulated seconds per real second: 1 is real time; 10 makes kitchens and wheels 10× faster. */
  timeScale: number;
  offerPolicy: OfferPolicy;
  area: Area;
  locationEveryMs: number;
  stopped(): boolean;
  log(line: string): void;
  /** Orders' milestones, reported by whichever actor sees them. */
  orders: OrderBook;
  /** Spreads sockets over several source addresses (more than ~28k sockets per address). */
  localAddress(index: number): string | undefined;
  /** The WebSocket client drivers connect with (default: the `ws` library). */
  dial?: Dial;
  /** How drivers schedule their moves and position reports (default: a timer each). */
  repeat?: Repeat;
}

/** Empty histograms for every latency a simulation records. */
export function newSimHistograms(): SimContext['histograms'] {
  return {
    ack: newHistogram(),
    placement: newHistogram(),
    match: newHistogram(),
    delivery: newHistogram(),
    fanout: newHistogram(),
    offerReach: newHistogram(),
    offerAnswer: newHistogram(),
  };
}

export interface OrderRecord {
  placedAt: number;
  confirmedAt?: number;
  assignedAt?: number;
  deliveredAt?: number;
  cancelled?: boolean;
}

/** Every order this simulation placed or handled, with the times of its milestones. */
export class OrderBook {
  readonly orders = new Map<string, OrderRecord>();
  placed = 0;
  matched = 0;
  delivered = 0;
  cancelled = 0;

  constructor(private readonly ctx: () => SimContext) {}

  private record(orderId: string): OrderRecord {
    let r = this.orders.get(orderId);
    if (!r) {
      r = { placedAt: Date.now() };
      this.orders.set(orderId, r);
    }
    return r;
  }

  onPlaced(orderId: string, at: number): void {
    if (this.orders.has(orderId)) return;
    this.orders.set(orderId, { placedAt: at });
    this.placed += 1;
  }

  onConfirmed(orderId: string, at: number): void {
    const r = this.record(orderId);
    r.confirmedAt ??= at;
  }

  onAssigned(orderId: string, at: number): void {
    const r = this.record(orderId);
    if (r.assignedAt !== undefined) return;
    r.assignedAt = at;
    this.matched += 1;
    if (r.confirmedAt !== undefined) {
      const h = this.ctx().histograms.match;
      h.recordValue(Math.max(1, Math.round((at - r.confirmedAt) * 1000)));
    }
  }

  onDelivered(orderId: string, at: number): void {
    const r = this.record(orderId);
    if (r.deliveredAt !== undefined) return;
    r.deliveredAt = at;
    this.delivered += 1;
    this.ctx().histograms.delivery.recordValue(Math.max(1, Math.round((at - r.placedAt) * 1000)));
  }

  onCancelled(orderId: string): void {
    const r = this.record(orderId);
    if (r.cancelled) return;
    r.cancelled = true;
    this.cancelled += 1;
  }

  /** Orders placed here that are neither delivered nor cancelled. */
  get open(): number {
    let n = 0;
    for (const r of this.orders.values()) if (r.deliveredAt === undefined && !r.cancelled) n++;
    return n;
  }
}
