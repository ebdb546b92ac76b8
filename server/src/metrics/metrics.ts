import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process: every app instance in it reports into the same series. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'delivery_' });

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
