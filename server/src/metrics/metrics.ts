import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process: every app instance in it reports into the same series. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'delivery_' });

/**
 * A counter with one label, for the location hot path (several increments per update): `inc`
 * adds to a plain number, and the counts are handed to prom-client when the registry is read
 * (the counter's `collect`). prom-client's own `inc({label})` builds and hashes a key from the
 * label object on every call: three calls per location update, ~4 % of a server's allocation at
 * 5,000 updates/s (docs/benchmarks.md).
 */
export class HotCounter<L extends string> {
  readonly counter: Counter<string>;
  private readonly pending: Record<string, number>;

  constructor(config: {
    name: string;
    help: string;
    label: string;
    values: readonly L[];
    registers?: Registry[];
  }) {
    const pending: Record<string, number> = Object.fromEntries(config.values.map((v) => [v, 0]));
    this.pending = pending;
    this.counter = new Counter({
      name: config.name,
      help: config.help,
      labelNames: [config.label],
      registers: config.registers ?? [registry],
      collect() {
        for (const value of config.values) {
          const n = pending[value]!;
          if (n === 0) continue;
          pending[value] = 0;
          this.inc({ [config.label]: value }, n);
        }
      },
    });
  }

  inc(value: L): void {
    this.pending[value]! += 1;
  }

  /** The counter's values, these counts included (as a scrape reads them). */
  get() {
    return this.counter.get();
  }
}

export const httpDuration = new Histogram({
  name: 'delivery_http_request_duration_seconds',
  help: 'HTTP request duration by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ordersCreated = new Counter({
  name: 'delivery_orders_created_total',
  help: 'Orders placed (replays of an idempotency key are not counted)',
  registers: [registry],
});

export const orderTransitions = new Counter({
  name: 'delivery_order_transitions_total',
  help: 'Order status transitions by source and target status',
  labelNames: ['from', 'to'] as const,
  registers: [registry],
});

export const idempotentReplays = new Counter({
  name: 'delivery_idempotent_replays_total',
  help: 'Requests answered from a stored idempotent response',
  registers: [registry],
});

export const driverAssignments = new Counter({
  name: 'delivery_driver_assignments_total',
  help: 'Offer outcomes: accepted, rejected, expired, or no_driver when a search found nobody',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const matchingDuration = new Histogram({
  name: 'delivery_driver_matching_duration_seconds',
  help: 'Time from the merchant confirming an order to a driver accepting it',
  buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600],
  registers: [registry],
});

export const offersPerAssignment = new Histogram({
  name: 'delivery_offers_per_assignment',
  help: 'Offers made before an order was accepted',
  buckets: [1, 2, 3, 4, 5, 7, 10, 15],
  registers: [registry],
});

export const deliveryTime = new Histogram({
  name: 'delivery_delivery_time_seconds',
  help: 'Time from pickup to delivery',
  buckets: [60, 180, 300, 600, 900, 1200, 1800, 2700, 3600],
  registers: [registry],
});

export const deliveryDistance = new Histogram({
  name: 'delivery_delivery_distance_km',
  help: 'Straight-line distance from store to door of delivered orders',
  buckets: [0.5, 1, 2, 3, 4, 5, 7, 10, 15],
  registers: [registry],
});

export const etaError = new Histogram({
  name: 'delivery_eta_error_seconds',
  help: 'Absolute error of the delivery time predicted at pickup (goal: 90% within 180 s)',
  buckets: [30, 60, 120, 180, 240, 300, 600, 900],
  registers: [registry],
});

export const geoQueryDuration = new Histogram({
  name: 'delivery_geo_query_duration_seconds',
  help: 'Latency of nearby-driver searches in the geo index',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [registry],
});

export const locationUpdates = new HotCounter({
  name: 'delivery_location_updates_total',
  help: 'Driver location updates by outcome (applied, stale, rejected, superseded)',
  label: 'outcome',
  values: ['applied', 'stale', 'rejected', 'superseded'],
});

export const locationIngestDuration = new Histogram({
  name: 'delivery_location_ingest_duration_seconds',
  help: 'WebSocket location updates: message read off the socket to ack (or refusal) written',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const breakerState = new Gauge({
  name: 'delivery_circuit_breaker_state',
  help: 'Circuit breaker state: 0 closed, 0.5 half-open, 1 open',
  labelNames: ['name'] as const,
  registers: [registry],
});

export const breakerEvents = new Counter({
  name: 'delivery_circuit_breaker_events_total',
  help: 'Circuit breaker events (open, halfOpen, close, reject, failure, timeout)',
  labelNames: ['name', 'event'] as const,
  registers: [registry],
});

export const websocketConnections = new Gauge({
  name: 'delivery_websocket_connections',
  help: 'Open WebSocket connections on /ws, signed in or not',
  registers: [registry],
});

export const websocketMessages = new HotCounter({
  name: 'delivery_websocket_messages_total',
  help: 'WebSocket messages by direction (in: from clients, out: to clients)',
  label: 'direction',
  values: ['in', 'out'],
});

export const onlineDrivers = new Gauge({
  name: 'delivery_online_drivers',
  help: 'Drivers online (read from the database at scrape time)',
  registers: [registry],
});

export const activeOrders = new Gauge({
  name: 'delivery_active_orders',
  help: 'Orders not yet delivered or cancelled, by status (read at scrape time)',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const dbPool = new Gauge({
  name: 'delivery_db_pool_connections',
  help: 'PostgreSQL pool of this process: open connections (total), idle ones, and callers waiting for one (waiting)',
  labelNames: ['state'] as const,
  registers: [registry],
});
