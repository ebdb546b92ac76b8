import type { SimContext } from './context.ts';
import type { Point } from './geo.ts';
import { ApiError } from './http.ts';
import { prepMinutes } from './rates.ts';
import type { Rng } from './rng.ts';
import { SimSocket, type ChannelEventMsg } from './socket.ts';

export interface MerchantAccount {
  /** The owner's user id. */
  id: string;
  email: string;
  token: string;
  merchantId: string;
}

export interface StoreInfo extends Point {
  id: string;
  name: string;
  avgPrepTimeMinutes: number;
  deliveryRadiusKm: number;
  isOpen: boolean;
}

export interface MenuEntry {
  id: string;
  priceCents: number;
  isAvailable: boolean;
}

const POLL_MS = 20_000;

const AFTER: Record<'confirm' | 'preparing' | 'ready', readonly string[]> = {
  confirm: ['confirmed', 'preparing', 'ready_for_pickup', 'picked_up', 'delivered'],
  preparing: ['preparing', 'ready_for_pickup', 'picked_up', 'delivered'],
  ready: ['ready_for_pickup', 'picked_up', 'delivered'],
};

/**
 * A store's tablet: hears of new orders on `merchant:<id>` (and polls now and then, in case an
 * event was missed), confirms after a short while, prepares for its prep time with noise,
 * marks the order ready.
 */
export class VirtualMerchant {
  private socket: SimSocket | null = null;
  private readonly handled = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly account: MerchantAccount,
    readonly store: StoreInfo,
    readonly menu: MenuEntry[],
    private readonly rng: Rng,
    private readonly ctx: SimContext,
    private readonly index: number,
  ) {}

  start(): void {
    this.socket = new SimSocket(
      this.ctx.wsUrl,
      this.account.token,
      this.ctx.counters,
      { onEvent: (e) => this.onEvent(e) },
      { localAddress: this.ctx.localAddress(this.index), random: () => this.rng.next() },
    );
    this.socket.subscribe(`merchant:${this.account.merchantId}`);
    this.socket.start();
    this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.pollTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.socket?.stop();
  }

  private later(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.ctx.stopped()) void fn();
    }, ms);
    this.timers.add(t);
  }

  private onEvent(e: ChannelEventMsg): void {
    if (e.type !== 'order.status' || typeof e.data !== 'object' || e.data === null) return;
    const { orderId, status } = e.data as { orderId?: unknown; status?: unknown };
    if (typeof orderId !== 'string') return;
    if (status === 'pending') this.take(orderId);
    if (status === 'cancelled') this.ctx.orders.onCancelled(orderId);
  }

  private async poll(): Promise<void> {
    try {
      const { items } = await this.ctx.api.get<{ items: Array<{ id: string }> }>(
        '/api/v1/merchant/orders?status=pending&limit=100',
        this.account.token,
      );
      for (const o of items) this.take(o.id);
    } catch {
      // Counted by the client; the next poll tries again.
    }
  }

  private take(orderId: string): void {
    if (this.handled.has(orderId)) return;
    this.handled.add(orderId);
    const s = this.ctx.timeScale;
    this.later(this.rng.float(2_000, 15_000) / s, async () => {
      if (!(await this.move(orderId, 'confirm'))) return;
      this.ctx.orders.onConfirmed(orderId, Date.now());
      if (!(await this.move(orderId, 'preparing'))) return;
      const minutes = prepMinutes(this.rng, this.store.avgPrepTimeMinutes);
      this.later((minutes * 60_000) / s, async () => {
        if (await this.move(orderId, 'ready')) this.ctx.counters.inc('orders.ready');
      });
    });
  }

  /** One state transition; false when the order went elsewhere (cancelled, say). */
  private async move(orderId: string, action: 'confirm' | 'preparing' | 'ready'): Promise<boolean> {
    try {
      await this.ctx.api.post(`/api/v1/merchant/orders/${orderId}/${action}`, {
        token: this.account.token,
        retry: true,
      });
      return true;
    } catch (err) {
      // A retried move that had in fact gone through answers 409 with the status it reached.
      const reached =
        err instanceof ApiError && err.status === 409 ? err.detail('currentStatus') : null;
      if (typeof reached === 'string' && AFTER[action].includes(reached)) return true;
      const code = err instanceof ApiError ? err.code : 'UNKNOWN';
      this.ctx.counters.inc(`merchant.${action}_failed.${code}`);
      return false;
    }
  }
}
