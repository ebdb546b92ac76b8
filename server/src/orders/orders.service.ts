import type { CreateOrderBody, Order, OrderStatus, OrdersQuery } from '@delivery/contracts';
import type { Session } from '../auth/auth.service.ts';
import { findMenuItems, findMerchant, type PricedMenuItem } from '../catalog/catalog.repository.ts';
import { readStoreOfOwner, type StoreOfOwner } from '../catalog/store-of-owner.ts';
import type { Db, QueryOptions, Tx } from '../db/db.ts';
import { DomainError, notFound } from '../errors.ts';
import type { IdempotencyService } from '../idempotency/idempotency.service.ts';
import { idempotentReplays, ordersCreated, orderTransitions } from '../metrics/metrics.ts';
import { haversineKm } from '../platform/geo.ts';
import type { ChannelPublisher } from '../realtime/channel-events.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { sourcesFor } from './order-state.ts';
import { priceOrder } from './pricing.ts';
import * as repo from './orders.repository.ts';

export interface Actor {
  id: string | null;
  role: 'customer' | 'merchant' | 'driver' | 'admin' | 'system';
}

/** Who may see or move an order: only the rows matching it exist for the caller. */
export interface OrderScope {
  customerId?: string;
  merchantId?: string;
  driverId?: string;
}

/** A status change committed with its move, as seen by the modules that react to it. */
export interface StatusChange {
  order: repo.OrderRow;
  from: OrderStatus | null;
  to: OrderStatus;
  actor: Actor;
}

/**
 * Runs inside the transition's transaction, so its writes commit or roll back with the move;
 * anything it announces goes through `tx.afterCommit`. Dispatch, notifications and driver
 * counters subscribe here instead of being wired into the state machine.
 *
 * A listener sends all its statements before its first `await` (it may await their answers,
 * nothing before them): the move's final read and COMMIT go out right behind them, in the same
 * flight. The handle it is given refuses a statement sent any later.
 */
export type TransitionListener = (tx: Tx, change: StatusChange) => Promise<void>;

export interface OrdersServiceDeps {
  db: Db;
  idempotency: IdempotencyService;
  publisher: ChannelPublisher;
  listeners?: TransitionListener[];
  /** Live ETA of an active order (tracking module). */
  etaOf?: (orderId: string) => Promise<Order['eta']>;
  /** The store a merchant user runs (cached in production); read each time by default. */
  storeOf?: StoreOfOwner;
}

export type OrdersService = ReturnType<typeof createOrdersService>;

function inScope(row: repo.OrderRow, scope: OrderScope): boolean {
  return (
    (scope.customerId === undefined || row.customer_id === scope.customerId) &&
    (scope.merchantId === undefined || row.merchant_id === scope.merchantId) &&
    (scope.driverId === undefined || row.driver_id === scope.driverId)
  );
}

/**
 * The transaction as one listener sees it: statements pass through until the listener has
 * returned (its synchronous part), then they are refused, because COMMIT may be on its way.
 */
class ListenerTx implements Tx {
  private open = true;

  constructor(private readonly tx: Tx) {}

  close(): void {
    this.open = false;
  }

  private check(): void {
    if (!this.open) {
      throw new Error(
        'A transition listener sent a statement after its first await; send them all before it',
      );
    }
  }

  query<R>(sql: string, params?: unknown[], options?: QueryOptions) {
    this.check();
    return this.tx.query<R>(sql, params, options);
  }

  exec(sql: string): Promise<void> {
    this.check();
    return this.tx.exec(sql);
  }

  afterCommit(fn: () => unknown): void {
    this.tx.afterCommit(fn);
  }

  commitWith<R>(): Promise<R> {
    throw new Error('A transition listener does not end the transaction');
  }
}

export function createOrdersService({
  db,
  idempotency,
  publisher,
  listeners = [],
  etaOf,
  storeOf = (ownerId) => readStoreOfOwner(db, ownerId),
}: OrdersServiceDeps) {
  /**
   * Starts the listeners. They write to their own tables and read nothing another one writes,
   * so they run side by side and their statements go out together on the transaction's
   * connection; the caller queues its own behind them. Resolves once every listener has sent its
   * statements, to `finished`, which settles when all of them have (failed or not). A listener
   * that fails before sending anything fails this at once, before the caller sends COMMIT; one
   * waits only for microtasks for that, never for I/O.
   */
  async function startListeners(
    tx: Tx,
    change: StatusChange,
  ): Promise<{ finished: Promise<void> }> {
    let early: { reason: unknown } | undefined;
    const outcomes = listeners.map((listener) => {
      const handle = new ListenerTx(tx);
      const done = listener(handle, change);
      handle.close();
      done.catch((reason: unknown) => (early ??= { reason }));
      return done;
    });
    const finished = Promise.allSettled(outcomes).then((settled) => {
      const failed = settled.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    });
    await Promise.resolve(); // an already failed listener's rejection has been seen by now
    if (early) {
      await finished.catch(() => undefined); // the others' statements are answered first
      throw early.reason;
    }
    return { finished };
  }

  function priceLines(body: CreateOrderBody, menuItems: PricedMenuItem[]) {
    const quantities = new Map<string, number>();
    for (const i of body.items)
      quantities.set(i.menuItemId, (quantities.get(i.menuItemId) ?? 0) + i.quantity);
    const found = new Map(menuItems.map((m) => [m.id, m]));
    const lines = [];
    for (const [menuItemId, quantity] of quantities) {
      const item = found.get(menuItemId);
      if (!item || item.merchant_id !== body.merchantId) {
        throw new DomainError(
          'UNKNOWN_MENU_ITEM',
          `Menu item ${menuItemId} is not on this merchant's menu`,
          {
            menuItemId,
          },
        );
      }
      if (!item.is_available) {
        throw new DomainError('MENU_ITEM_UNAVAILABLE', `${item.name} is not available right now`, {
          menuItemId,
        });
      }
      if (quantity > 50) {
        throw new DomainError('VALIDATION_FAILED', `At most 50 of ${item.name} per order`, {
          menuItemId,
        });
      }
      lines.push({ menuItemId, name: item.name, quantity, unitPriceCents: item.price_cents });
    }
    return lines;
  }

  type Catalog = Awaited<ReturnType<typeof readCatalog>>;

  /** What a placement reads, sent with the idempotency key's claim. */
  function readCatalog(tx: Tx, body: CreateOrderBody) {
    return Promise.all([
      findMerchant(tx, body.merchantId, true),
      findMenuItems(tx, [...new Set(body.items.map((i) => i.menuItemId))]),
    ]);
  }

  /**
   * Places the order. Answers it as inserted, with `pending`: the listeners' statements, still
   * in flight, so that the stored response and COMMIT go out right behind them. A new order's
   * listeners write no order columns (dispatch starts at confirmation), so the answer needs no
   * second read.
   */
  async function create(
    tx: Tx,
    customerId: string,
    body: CreateOrderBody,
    catalog: Promise<Catalog>,
  ): Promise<{ order: Order; pending: Promise<void> }> {
    // Their answers are checked in the order a customer fixes them.
    const [merchant, found] = await catalog;
    if (!merchant) throw new DomainError('UNKNOWN_MERCHANT', 'This merchant does not exist');
    if (!merchant.is_open)
      throw new DomainError('MERCHANT_CLOSED', `${merchant.name} is closed right now`);
    const distanceKm = haversineKm(merchant, { lat: body.deliveryLat, lng: body.deliveryLng });
    if (distanceKm > merchant.delivery_radius_km) {
      throw new DomainError(
        'OUTSIDE_DELIVERY_AREA',
        `${merchant.name} delivers within ${merchant.delivery_radius_km} km; this address is ${distanceKm.toFixed(1)} km away`,
        { distanceKm, deliveryRadiusKm: merchant.delivery_radius_km },
      );
    }
    const items = priceLines(body, found);
    const price = priceOrder(items, distanceKm, body.tipCents);
    const { row, order } = await repo.insertOrder(tx, {
      customerId,
      merchantId: merchant.id,
      deliveryAddress: body.deliveryAddress,
      deliveryLat: body.deliveryLat,
      deliveryLng: body.deliveryLng,
      notes: body.notes ?? null,
      distanceKm,
      ...price,
      items,
    });
    const actor: Actor = { id: customerId, role: 'customer' };
    const listening = await startListeners(tx, { order: row, from: null, to: 'pending', actor });
    const pending = listening.finished.then(() =>
      // Announced after what the listeners announce.
      tx.afterCommit(() => {
        ordersCreated.inc();
        return announce(order.id, order.merchantId, null, 'pending');
      }),
    );
    return { order, pending };
  }

  /** The order with its live ETA (tracking's), read outside any transaction. */
  async function withEta(order: Order): Promise<Order> {
    return { ...order, eta: etaOf ? await etaOf(order.id) : null };
  }

  async function announce(
    orderId: string,
    merchantId: string,
    from: OrderStatus | null,
    to: OrderStatus,
  ) {
    const data = { orderId, from, status: to };
    await publisher.publish(`order:${orderId}`, 'order.status', data);
    await publisher.publish(`merchant:${merchantId}`, 'order.status', data);
  }

  async function merchantScope(ownerId: string): Promise<OrderScope> {
    const merchantId = await storeOf(ownerId);
    if (!merchantId) throw new DomainError('NOT_FOUND', 'You do not run a store yet');
    return { merchantId };
  }

  /**
   * Moves an order to `to` if the state machine allows it from its current status. The update is
   * a compare-and-set on the status read, so of two racing moves exactly one wins; the loser gets
   * 409 with the status it lost to. The audit row commits with the move; the event follows commit.
   */
  async function transition(
    orderId: string,
    to: OrderStatus,
    actor: Actor,
    scope: OrderScope = {},
    reason?: string,
  ): Promise<Order> {
    // The ETA reads caches and the database, so it is added once the transaction is over.
    return withEta(await move(orderId, to, actor, scope, reason));
  }

  async function move(
    orderId: string,
    to: OrderStatus,
    actor: Actor,
    scope: OrderScope,
    reason: string | undefined,
  ): Promise<Order> {
    // Most moves have one status they may start from (a store confirms a pending order, a
    // driver delivers a picked-up one): the compare-and-set goes out at once, with the caller's
    // scope in it, and the order is read only to explain a refusal. A cancellation may start
    // from several, so the order is read first to know which.
    const sources = sourcesFor(to, actor.role);
    /** Why the move did not happen, given the order as it is now: 404 before 409. */
    const refusal = (row: repo.OrderRow | null): DomainError => {
      if (!row || !inScope(row, scope)) return notFound('Order');
      if (!sources.includes(row.status)) {
        return new DomainError(
          to === 'cancelled' ? 'ORDER_NOT_CANCELLABLE' : 'INVALID_TRANSITION',
          `Order is ${row.status}; it cannot become ${to}`,
          { currentStatus: row.status },
        );
      }
      return new DomainError(
        'INVALID_TRANSITION',
        `Order changed meanwhile; it is now ${row.status}`,
        { currentStatus: row.status },
      );
    };
    return db.transaction(async (tx) => {
      let from: OrderStatus;
      if (sources.length === 1) {
        from = sources[0]!;
      } else {
        const row = await repo.findOrderRow(tx, orderId);
        if (!row || !inScope(row, scope) || !sources.includes(row.status)) throw refusal(row);
        from = row.status;
      }
      const after = await repo.compareAndSetStatus(
        tx,
        {
          id: orderId,
          from,
          to,
          ...scope,
          cancelReason: to === 'cancelled' ? (reason ?? null) : null,
          cancelledBy: to === 'cancelled' ? actor.role : null,
        },
        { actorId: actor.id, actorRole: actor.role, reason: reason ?? null },
      );
      if (!after) throw refusal(await repo.findOrderRow(tx, orderId));
      // The listeners' statements, the read that shows their writes and COMMIT: one flight.
      const listening = await startListeners(tx, { order: after, from, to, actor });
      const read = repo.findOrder(tx, orderId);
      const done = Promise.all([listening.finished, read]).then(([, order]) => {
        // Announced after what the listeners announce, as when they ran one flight earlier.
        tx.afterCommit(() => {
          orderTransitions.inc({ from, to });
          return announce(orderId, after.merchant_id, from, to);
        });
        return order!;
      });
      return tx.commitWith(done);
    });
  }

  async function list(scope: OrderScope, q: OrdersQuery) {
    const before = decodeCursor(q.cursor);
    const rows = await repo.listOrders(db, {
      ...scope,
      status: q.status,
      before,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(repo.toOrderSummary),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  return {
    transition,
    withEta,

    async place(customerId: string, key: string, body: CreateOrderBody) {
      const result = await idempotency.run<{ order: Order }, Catalog>(
        { userId: customerId, key, scope: 'POST /api/v1/orders', body },
        async (tx, catalog) => {
          const { order, pending } = await create(tx, customerId, body, catalog);
          return { status: 201, body: { order }, pending };
        },
        (tx) => readCatalog(tx, body),
      );
      if (result.replayed) idempotentReplays.inc();
      return result;
    },

    /** An order as its customer, its store, its driver or an admin sees it; 404 for anyone else. */
    async get(session: Session, orderId: string): Promise<Order> {
      const order = await repo.findOrder(db, orderId);
      if (!order) throw notFound('Order');
      const role = session.role;
      const visible =
        role === 'admin' ||
        (role === 'customer' && order.customerId === session.userId) ||
        (role === 'driver' && order.driverId === session.userId) ||
        (role === 'merchant' &&
          (await merchantScope(session.userId)).merchantId === order.merchantId);
      if (!visible) throw notFound('Order');
      return withEta(order);
    },

    listForCustomer: (customerId: string, q: OrdersQuery) => list({ customerId }, q),

    listForDriver: (driverId: string, q: OrdersQuery) => list({ driverId }, q),

    cancelByCustomer: (customerId: string, orderId: string, reason?: string) =>
      transition(
        orderId,
        'cancelled',
        { id: customerId, role: 'customer' },
        { customerId },
        reason,
      ),

    async listForMerchant(ownerId: string, q: OrdersQuery) {
      return list(await merchantScope(ownerId), q);
    },

    async moveByMerchant(ownerId: string, orderId: string, to: OrderStatus, reason?: string) {
      return transition(
        orderId,
        to,
        { id: ownerId, role: 'merchant' },
        await merchantScope(ownerId),
        reason,
      );
    },
  };
}
