import { createAdminService } from './admin/admin.service.ts';
import { createAuthService } from './auth/auth.service.ts';
import { PasswordHasher } from './auth/passwords.ts';
import { createCatalogService } from './catalog/catalog.service.ts';
import { createStoreOfOwner } from './catalog/store-of-owner.ts';
import type { Config } from './config.ts';
import { createIdempotencyService } from './idempotency/idempotency.service.ts';
import { createNotificationsService } from './notifications/notifications.service.ts';
import { createOrdersService } from './orders/orders.service.ts';
import type { Infra } from './platform/infra.ts';
import { createRatingsService } from './ratings/ratings.service.ts';
import type { Logger } from 'pino';
import { DISPATCH_BREAKER } from './dispatch/breaker.ts';
import { createDispatchService } from './dispatch/dispatch.service.ts';
import { HistoryWriter } from './drivers/history-writer.ts';
import { LocationService } from './drivers/location.service.ts';
import { createDriversService } from './drivers/drivers.service.ts';
import { TrackingService } from './tracking/tracking.service.ts';
import { createChannelPublisher } from './realtime/channel-events.ts';

export type Services = ReturnType<typeof createServices>;

/** Wires every domain service to the infrastructure once; routes only call these. */
export function createServices(config: Config, infra: Infra, log: Logger) {
  const { db, kv, clock } = infra;
  const hasher = new PasswordHasher(config.passwordHashMemoryKib);
  const publisher = createChannelPublisher({ bus: kv.bus, events: kv.events, clock });
  const idempotency = createIdempotencyService({ db });
  const notifications = createNotificationsService({ db, publisher });
  const tracking = new TrackingService(db, kv.bus, kv.geo, publisher, clock, config.eta, log);
  const history = new HistoryWriter(db, log);
  const location = new LocationService(kv.geo, history, clock, config.location, (update) =>
    tracking.onLocation(update),
  );
  const dispatch = createDispatchService({
    db,
    sweepDb: infra.dispatchDb,
    geo: kv.geo,
    publisher,
    clock,
    settings: config.dispatch,
    log,
    notify: async (tx, n) => {
      await notifications.notify(tx, n);
    },
    onAssignmentChange: (orderId, driverIds) => tracking.invalidate(orderId, driverIds),
    breaker: { ...DISPATCH_BREAKER, resetTimeoutMs: config.dispatch.breakerResetMs },
  });
  // Scopes merchant requests and WebSocket subscriptions alike.
  const storeOf = createStoreOfOwner(db, clock);
  const orders = createOrdersService({
    db,
    idempotency,
    publisher,
    listeners: [dispatch.onStatusChange, tracking.onStatusChange, notifications.onStatusChange],
    etaOf: (orderId) => tracking.etaFor(orderId),
    storeOf,
  });
  return {
    storeOf,
    hasher,
    publisher,
    auth: createAuthService({
      db,
      sessions: kv.sessions,
      hasher,
      clock,
      sessionTtlMs: config.sessionTtlMs,
      sessionCacheTtlMs: config.sessionCacheTtlMs,
      log,
    }),
    catalog: createCatalogService({ db }),
    orders,
    notifications,
    tracking,
    history,
    location,
    dispatch,
    drivers: createDriversService({ db, geo: kv.geo, clock, location, dispatch, orders }),
    ratings: createRatingsService({ db, orders }),
    admin: createAdminService({ db, orders }),
  };
}
