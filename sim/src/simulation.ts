import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import {
  accountsOverHttp,
  DEMO_MERCHANT_LOGINS,
  type Accounts,
  type CustomerAccount,
} from './accounts.ts';
import { newSimHistograms, OrderBook, type Area, type SimContext } from './context.ts';
import { VirtualDriver } from './driver.ts';
import { distanceM, randomPointInDisc, round6, type Point } from './geo.ts';
import { Api, ApiError, wsUrlOf, type Hold } from './http.ts';
import { dialLean } from './lean-ws.ts';
import { VirtualMerchant, type MenuEntry, type StoreInfo } from './merchant.ts';
import { PoissonArrivals } from './rates.ts';
import { Rng } from './rng.ts';
import { SimSocket } from './socket.ts';
import { Counters, recordMs, summarize, type LatencySummary } from './stats.ts';
import { TimerWheel } from './wheel.ts';

export interface SimOptions {
  /**
   * Base URL of the platform, e.g. http://localhost:3000, or of several instances of one
   * platform separated by commas: drivers, customers and stores are spread over them in turn.
   */
  target: string;
  drivers: number;
  customers: number;
  ordersPerMinute: number;
  /** Place the first order as soon as everyone is ready, not one random gap later (demos). */
  firstOrderAtOnce?: boolean;
  /** Stop placing orders after this many (0: no limit). */
  maxOrders: number;
  area: { lat: number; lng: number; radiusKm: number };
  /** Seconds to place orders for; 0 runs until `stop()` (Ctrl-C). */
  durationS: number;
  /** After the duration, keep drivers and merchants going up to this long for open orders. */
  drainS: number;
  acceptProbability: number;
  offerDelayMs: [number, number];
  seed: string;
  timeScale: number;
  locationEveryMs: number;
  /** Ready-made accounts (a fleet file); otherwise accounts are signed in over HTTP. */
  accounts?: Accounts;
  prefix: string;
  password: string;
  merchantLogins: string[];
  /** Customers follow their orders live over `/ws` (measures location fan-out). */
  trackOrders: boolean;
  goOfflineOnStop: boolean;
  /** Progress line every this many ms (0: none). */
  progressEveryMs: number;
  localAddresses: string[];
  /**
   * Drivers connect with the lean client (src/lean-ws.ts; `ws` still for `https://` targets)
   * instead of the `ws` library: the bench's choice, where the simulator shares the machine it measures.
   */
  leanSockets: boolean;
  /**
   * What a 503 holds back (see `Api`'s `hold`): `client`, every request of that kind of actor
   * to that server; `request`, only the refused request, each person backing off on their own.
   */
  hold: Hold;
  log: (line: string) => void;
  /** Where the progress line goes (a TTY rewrites one line). */
  progress?: (line: string) => void;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  target: 'http://localhost:3000',
  drivers: 8,
  customers: 6,
  ordersPerMinute: 4,
  maxOrders: 0,
  // Heidelberg, around the demo seed's stores.
  area: { lat: 49.4075, lng: 8.6925, radiusKm: 2.5 },
  durationS: 0,
  drainS: 0,
  acceptProbability: 0.9,
  offerDelayMs: [2_000, 10_000],
  seed: 'delivery',
  timeScale: 1,
  locationEveryMs: 3_000,
  prefix: 'sim',
  password: 'sim-password-1',
  merchantLogins: DEMO_MERCHANT_LOGINS,
  trackOrders: true,
  goOfflineOnStop: true,
  progressEveryMs: 2_000,
  localAddresses: [],
  leanSockets: false,
  hold: 'client',
  log: (line) => console.log(line),
};

export interface SimSummary {
  durationS: number;
  drivers: { configured: number; online: number; connected: number };
  orders: { placed: number; matched: number; delivered: number; cancelled: number; open: number };
  latencyMs: {
    placement: LatencySummary;
    match: LatencySummary;
    delivery: LatencySummary;
    locationAck: LatencySummary;
    fanout: LatencySummary;
  };
  locations: { sent: number; acked: number };
  /**
   * Per kind of requests, the most that waited in the simulator for a connection at once
   * (sampled every second, all instances together): a queue here is time the platform never
   * saw, and it counts in the latencies above.
   */
  httpWaitingPeak: Record<ApiKind, number>;
  errors: number;
  counters: Record<string, number>;
}

interface Store {
  info: StoreInfo;
  menu: MenuEntry[];
}

/** Errors worth a reader's attention (not the ordinary conflicts of a busy marketplace). */
function errorCount(c: Counters): number {
  return (
    c.sum('http.') +
    c.sum('ws.error.') +
    c.get('ws.connect_failed') +
    c.get('ws.disconnect') +
    c.get('ws.unexpected') +
    c.get('ws.handler_error') +
    c.sum('orders.place_failed.') +
    c.get('driver.go_online_failed')
  );
}

/**
 * Whose requests a context makes. Each kind has its own connections to each instance and its
 * own pause after a 503, as separate apps on separate phones would. Drivers' answers to offers
 * have pools of their own (`SimContext.answers`): an answer is due within 30 s, and a phone
 * sends it at once, while in one shared queue it waited behind thousands of other drivers'
 * pickups and refreshes.
 */
type ActorKind = 'customers' | 'merchants' | 'drivers';
type ApiKind = ActorKind | 'offer answers';
const noneWaiting = (): Record<ApiKind, number> => ({
  customers: 0,
  merchants: 0,
  drivers: 0,
  'offer answers': 0,
});
/** Connections per kind of actor and instance (see `ApiOptions.connections`). */
const CONNECTIONS_PER_KIND = 128;

/** Drivers of one simulation that may be going online at once (see `start`). */
const MAX_STARTING = 32;

/**
 * A simulated city against a running platform, through its public HTTP API and `/ws` only.
 * `start()` signs everyone in and sets the city moving; `run()` waits for the duration (and
 * drain), then stops; `stop()` may be called at any time (Ctrl-C).
 */
export class Simulation {
  readonly opts: SimOptions;
  readonly counters = new Counters();
  /** What the actors share; its `api` and `wsUrl` are the customers' on the first instance. */
  readonly ctx: SimContext;
  /** Per kind of actor, one context per instance in `target`, differing in `api` and `wsUrl`. */
  private readonly contexts: Record<ActorKind, readonly SimContext[]>;
  /** Every HTTP client of the simulation and whose requests it makes; closed when it stops. */
  private readonly apis: Array<{ kind: ApiKind; api: Api }> = [];
  private readonly httpWaitingPeak = noneWaiting();
  private queueTimer: NodeJS.Timeout | undefined;
  readonly drivers: VirtualDriver[] = [];
  readonly merchants: VirtualMerchant[] = [];
  private readonly rng: Rng;
  private readonly runId = randomBytes(4).toString('hex');
  private stopped = false;
  private readonly wheel = new TimerWheel();
  private orderTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private placedCount = 0;
  private stores: Store[] = [];
  private customers: CustomerAccount[] = [];
  private readonly customerSockets = new Map<string, SimSocket>();
  private stopWaiters: Array<() => void> = [];
  private placedAll: () => void = () => undefined;
  /** Settles once `maxOrders` orders were placed (or failed to be). */
  private readonly allPlaced = new Promise<void>((r) => (this.placedAll = r));
  private settledOrders = 0;

  constructor(options: Partial<SimOptions> = {}) {
    this.opts = { ...DEFAULT_SIM_OPTIONS, ...options };
    this.rng = new Rng(this.opts.seed);
    // Each instance has its own Api per kind of actor, so a 503 from one holds back only
    // that kind's requests to it.
    const apisOf = (kind: ApiKind) =>
      targetsOf(this.opts.target).map((target) => {
        const api = new Api(target, this.counters, {
          connections: CONNECTIONS_PER_KIND,
          hold: this.opts.hold,
          isStopped: () => this.stopped,
          onPause: (ms, status, path) =>
            this.opts.log(
              `${target} answered ${status} to ${path}: holding the ${kind} requests for ${Math.round(ms / 1000)} s (at most 60 s at a time)`,
            ),
        });
        this.apis.push({ kind, api });
        return api;
      });
    const area: Area = {
      centre: { lat: this.opts.area.lat, lng: this.opts.area.lng },
      radiusM: this.opts.area.radiusKm * 1000,
    };
    const addresses = this.opts.localAddresses;
    const shared: Omit<SimContext, 'api' | 'wsUrl'> = {
      counters: this.counters,
      histograms: newSimHistograms(),
      timeScale: this.opts.timeScale,
      offerPolicy: {
        acceptProbability: this.opts.acceptProbability,
        minDelayMs: this.opts.offerDelayMs[0],
        maxDelayMs: this.opts.offerDelayMs[1],
      },
      area,
      locationEveryMs: this.opts.locationEveryMs,
      stopped: () => this.stopped,
      log: this.opts.log,
      orders: new OrderBook(() => this.ctx),
      localAddress: (i) => (addresses.length ? addresses[i % addresses.length] : undefined),
      // Thousands of drivers' one-second moves and three-second reports, from one timer.
      repeat: this.wheel.every,
      dial: this.opts.leanSockets ? dialLean : undefined,
    };
    const contextsOf = (kind: ActorKind) =>
      apisOf(kind).map((api) => ({ ...shared, api, wsUrl: wsUrlOf(api.baseUrl) }));
    const answers = apisOf('offer answers');
    this.contexts = {
      customers: contextsOf('customers'),
      merchants: contextsOf('merchants'),
      drivers: contextsOf('drivers').map((ctx, i) => ({ ...ctx, answers: answers[i] })),
    };
    this.ctx = this.contexts.customers[0]!;
  }

  /** The context of the `i`th actor of a kind: actors take the instances in turn. */
  private at(kind: ActorKind, i: number): SimContext {
    const contexts = this.contexts[kind];
    return contexts[i % contexts.length]!;
  }

  get orders(): OrderBook {
    return this.ctx.orders;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.startedAt = Date.now();
    this.queueTimer = setInterval(() => this.sampleHttpWaiting(), 1_000);
    const accounts =
      o.accounts ??
      (await accountsOverHttp(this.ctx.api, {
        drivers: o.drivers,
        customers: o.customers,
        prefix: o.prefix,
        password: o.password,
        merchantLogins: o.merchantLogins,
        rng: this.rng.fork('accounts'),
        log: o.log,
      }));
    if (this.stopped) return;
    this.customers = accounts.customers.slice(0, o.customers || accounts.customers.length);
    await this.loadStores(accounts);
    if (this.stopped) return;
    for (const m of accounts.merchants) {
      const store = this.stores.find((s) => s.info.id === m.merchantId);
      if (!store) continue;
      const vm = new VirtualMerchant(
        m,
        store.info,
        store.menu,
        this.rng.fork(`merchant/${m.email}`),
        this.at('merchants', this.merchants.length),
        this.merchants.length,
      );
      this.merchants.push(vm);
      vm.start();
    }
    if (o.ordersPerMinute > 0 && this.merchants.length === 0) {
      o.log(
        'no store could be simulated: orders would wait for a human merchant, so none are placed',
      );
    }
    const driverAccounts = accounts.drivers.slice(0, o.drivers || accounts.drivers.length);
    const spreadMs = Math.min(10_000, driverAccounts.length * 5);
    // A whole fleet signing in within the spread can outrun a slow server: past its database
    // pool every request waits and then fails with 503. At most MAX_STARTING drivers are
    // going online at once, so a slower server is simply joined more slowly.
    const starting = pLimit(MAX_STARTING);
    await Promise.all(
      driverAccounts.map(async (a, i) => {
        const rng = this.rng.fork(`driver/${a.email}`);
        const start = randomPointInDisc(
          () => rng.next(),
          this.ctx.area.centre,
          this.ctx.area.radiusM,
        );
        const d = new VirtualDriver(
          a,
          start,
          rng,
          this.at('drivers', i),
          i + this.merchants.length,
        );
        this.drivers.push(d);
        await sleep((spreadMs * i) / Math.max(1, driverAccounts.length));
        await starting(async () => {
          if (!this.stopped) await d.start();
        });
      }),
    );
    if (this.stopped) return;
    if (o.progressEveryMs > 0) {
      this.progressTimer = setInterval(() => this.printProgress(), o.progressEveryMs);
    }
    if (o.ordersPerMinute > 0 && this.merchants.length && this.customers.length)
      this.scheduleOrders();
  }

  /** Runs for the configured duration (or until `stop()`), drains, stops, and summarises. */
  async run(): Promise<SimSummary> {
    await this.start();
    const o = this.opts;
    const stopped = new Promise<void>((r) => this.stopWaiters.push(r));
    if (o.durationS > 0) {
      const elapsed = Date.now() - this.startedAt;
      await Promise.race([
        stopped,
        sleep(Math.max(0, o.durationS * 1000 - elapsed)),
        this.allPlaced,
      ]);
      clearTimeout(this.orderTimer);
      this.orderTimer = undefined;
      const drainUntil = Date.now() + o.drainS * 1000;
      while (!this.stopped && Date.now() < drainUntil && this.orders.open > 0) await sleep(500);
    } else {
      await stopped;
    }
    return this.stop();
  }

  /** No more new orders; everything else goes on. */
  stopOrdering(): void {
    clearTimeout(this.orderTimer);
    this.orderTimer = undefined;
    this.opts.maxOrders = Math.max(1, this.placedCount);
  }

  /** Waits until every order placed here is delivered or cancelled, at most `ms`. */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopped && Date.now() < until && this.orders.open > 0) await sleep(500);
  }

  async stop(): Promise<SimSummary> {
    const wasStopped = this.stopped;
    this.stopped = true;
    for (const w of this.stopWaiters.splice(0)) w();
    clearTimeout(this.orderTimer);
    clearInterval(this.progressTimer);
    clearInterval(this.queueTimer);
    if (!wasStopped) {
      for (const m of this.merchants) m.stop();
      for (const s of this.customerSockets.values()) s.stop();
      await Promise.all(this.drivers.map((d) => d.stop(this.opts.goOfflineOnStop)));
      // Requests still under way (a merchant's step, an order being placed) are answered first.
      for (const { api } of this.apis) void api.close().catch(() => undefined);
    }
    this.wheel.halt();
    return this.summary();
  }

  summary(): SimSummary {
    const h = this.ctx.histograms;
    const c = this.counters;
    const b = this.orders;
    return {
      durationS: Math.round((Date.now() - this.startedAt) / 100) / 10,
      drivers: {
        configured: this.drivers.length,
        online: this.drivers.filter((d) => d.online).length,
        connected: this.drivers.filter((d) => d.connected).length,
      },
      orders: {
        placed: b.placed,
        matched: b.matched,
        delivered: b.delivered,
        cancelled: b.cancelled,
        open: b.open,
      },
      latencyMs: {
        placement: summarize(h.placement),
        match: summarize(h.match),
        delivery: summarize(h.delivery),
        locationAck: summarize(h.ack),
        fanout: summarize(h.fanout),
      },
      locations: { sent: c.get('location.sent'), acked: c.get('location.acked') },
      httpWaitingPeak: { ...this.httpWaitingPeak },
      errors: errorCount(c),
      counters: c.toJSON(),
    };
  }

  progressLine(): string {
    const b = this.orders;
    const m = this.ctx.histograms.match;
    const sec = (us: number) => (us / 1e6).toFixed(1);
    const match = m.totalCount
      ? `match p50 ${sec(m.getValueAtPercentile(50))}s p95 ${sec(m.getValueAtPercentile(95))}s`
      : 'match p50 - p95 -';
    const online = this.drivers.filter((d) => d.online && d.connected).length;
    const t = Math.round((Date.now() - this.startedAt) / 1000);
    return `[${t}s] placed ${b.placed} | matched ${b.matched} | delivered ${b.delivered} | ${match} | drivers online ${online}/${this.drivers.length} | errors ${errorCount(this.counters)}`;
  }

  private sampleHttpWaiting(): void {
    const now = noneWaiting();
    for (const { kind, api } of this.apis) now[kind] += api.waiting();
    for (const [kind, n] of Object.entries(now) as Array<[ApiKind, number]>) {
      this.httpWaitingPeak[kind] = Math.max(this.httpWaitingPeak[kind], n);
    }
  }

  private printProgress(): void {
    (this.opts.progress ?? this.opts.log)(this.progressLine());
  }

  private async loadStores(accounts: Accounts): Promise<void> {
    const a = this.opts.area;
    const ids = new Set(accounts.merchants.map((m) => m.merchantId));
    const stores: Store[] = [];
    for (const id of ids) {
      try {
        const { merchant } = await this.ctx.api.get<{ merchant: StoreInfo }>(
          `/api/v1/merchants/${id}`,
        );
        const { items } = await this.ctx.api.get<{ items: MenuEntry[] }>(
          `/api/v1/merchants/${id}/menu`,
        );
        const menu = items.filter((i) => i.isAvailable);
        if (!merchant.isOpen || menu.length === 0) {
          this.opts.log(`${merchant.name} is closed or has nothing to sell; no orders go there`);
          continue;
        }
        if (
          distanceM(merchant, { lat: a.lat, lng: a.lng }) >
          a.radiusKm * 1000 + merchant.deliveryRadiusKm * 1000
        ) {
          this.opts.log(`${merchant.name} is outside the simulated area; no orders go there`);
          continue;
        }
        stores.push({ info: merchant, menu });
      } catch (err) {
        this.opts.log(`store ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.stores = stores;
  }

  private scheduleOrders(): void {
    const arrivals = new PoissonArrivals(this.opts.ordersPerMinute, this.rng.fork('arrivals'));
    const choose = this.rng.fork('orders');
    // Orders come at the configured rate of real time: the time scale speeds up the world,
    // not the demand, so a benchmark's rate stays what it says. Arrival times are kept on an
    // absolute schedule and every arrival already due is placed at once, so a busy event loop
    // (late timers) delays orders a little but never lowers the rate.
    let due = performance.now() + (this.opts.firstOrderAtOnce ? 0 : arrivals.nextGapMs());
    const next = () => {
      if (this.stopped) return;
      this.orderTimer = setTimeout(
        () => {
          while (due <= performance.now()) {
            if (this.stopped) return;
            if (this.opts.maxOrders && this.placedCount >= this.opts.maxOrders) return;
            this.placedCount += 1;
            void this.placeOrder(this.placedCount, choose);
            due += arrivals.nextGapMs();
          }
          next();
        },
        Math.max(0, due - performance.now()),
      );
    };
    if (!this.opts.maxOrders || this.placedCount < this.opts.maxOrders) next();
  }

  private async placeOrder(n: number, rng: Rng): Promise<void> {
    // The same draw as `rng.pick`, kept as an index: the customer's instance follows from it.
    const c = rng.int(0, this.customers.length - 1);
    const customer = this.customers[c]!;
    const ctx = this.at('customers', c);
    const store = rng.pick(this.stores);
    const lines = Math.min(store.menu.length, rng.int(1, 3));
    const items = new Map<string, number>();
    for (let i = 0; i < lines; i++) items.set(rng.pick(store.menu).id, rng.int(1, 2));
    const radiusM = Math.min(store.info.deliveryRadiusKm * 1000 * 0.8, 3_000);
    const dropoff: Point = round6(randomPointInDisc(() => rng.next(), store.info, radiusM));
    const body = {
      merchantId: store.info.id,
      items: [...items].map(([menuItemId, quantity]) => ({ menuItemId, quantity })),
      deliveryAddress: `Simulated address ${n}, ${dropoff.lat.toFixed(4)} ${dropoff.lng.toFixed(4)}`,
      deliveryLat: dropoff.lat,
      deliveryLng: dropoff.lng,
      tipCents: rng.pick([0, 0, 100, 200, 300]),
    };
    const started = performance.now();
    try {
      const { order } = await ctx.api.post<{ order: { id: string } }>('/api/v1/orders', {
        token: customer.token,
        body,
        headers: { 'x-idempotency-key': `sim-${this.runId}-${n}` },
        retry: true,
      });
      recordMs(this.ctx.histograms.placement, performance.now() - started);
      this.orders.onPlaced(order.id, Date.now());
      this.counters.inc('orders.placed');
      if (this.opts.trackOrders) this.follow(customer, ctx, order.id);
    } catch (err) {
      this.counters.inc(`orders.place_failed.${err instanceof ApiError ? err.code : 'UNKNOWN'}`);
    }
    this.settledOrders += 1;
    if (this.opts.maxOrders && this.settledOrders >= this.opts.maxOrders) this.placedAll();
  }

  /** The customer's app: follows the order live and times the driver's position reports. */
  private follow(customer: CustomerAccount, ctx: SimContext, orderId: string): void {
    let socket = this.customerSockets.get(customer.id);
    if (!socket) {
      socket = new SimSocket(
        ctx.wsUrl,
        customer.token,
        this.counters,
        {
          onEvent: (e) => {
            const data = e.data as { recordedAt?: unknown; status?: unknown; orderId?: unknown };
            if (e.type === 'order.driver_location' && typeof data.recordedAt === 'string') {
              recordMs(this.ctx.histograms.fanout, Date.now() - Date.parse(data.recordedAt));
            }
            if (
              e.type === 'order.status' &&
              (data.status === 'delivered' || data.status === 'cancelled')
            ) {
              socket?.unsubscribe(e.channel);
            }
          },
        },
        {
          localAddress: this.ctx.localAddress(this.customerSockets.size),
          random: () => this.rng.next(),
        },
      );
      this.customerSockets.set(customer.id, socket);
      socket.start();
    }
    socket.subscribe(`order:${orderId}`);
  }
}

/** The base URLs in a `target` option: one, or several separated by commas. */
export function targetsOf(target: string): string[] {
  const urls = target
    .split(',')
    .map((t) => t.trim().replace(/\/$/, ''))
    .filter(Boolean);
  if (!urls.length) throw new Error('no target URL given');
  return urls;
}
