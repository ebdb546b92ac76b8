import { createAuthService } from './auth/auth.service.ts';
import { PasswordHasher } from './auth/passwords.ts';
import { createCatalogService } from './catalog/catalog.service.ts';
import type { Config } from './config.ts';
import { createIdempotencyService } from './idempotency/idempotency.service.ts';
import { createOrdersService } from './orders/orders.service.ts';
import type { Infra } from './platform/infra.ts';
import { createChannelPublisher } from './realtime/channel-events.ts';

export type Services = ReturnType<typeof createServices>;

/** Wires every domain service to the infrastructure once; routes only call these. */
export function createServices(config: Config, infra: Infra) {
  const { db, kv, clock } = infra;
  const hasher = new PasswordHasher(config.passwordHashMemoryKib);
  const publisher = createChannelPublisher({ bus: kv.bus, events: kv.events, clock });
  const idempotency = createIdempotencyService({ db });
  return {
    hasher,
    publisher,
    auth: createAuthService({
      db,
      sessions: kv.sessions,
      hasher,
      clock,
      sessionTtlMs: config.sessionTtlMs,
    }),
    catalog: createCatalogService({ db }),
    orders: createOrdersService({ db, idempotency, publisher }),
  };
}
