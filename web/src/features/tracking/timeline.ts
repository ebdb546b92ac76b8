import type { Order, OrderStatus, ServerEvent } from '@delivery/contracts';

export type Step = OrderStatus | 'assigned';

/** A step reported live, before (or instead of) the order's own timestamps. */
export interface LiveStep {
  eventId: string;
  step: Step;
  at: string;
}

export interface TimelineEntry {
  step: Step;
  label: string;
  /** When it happened; null for a step still to come. */
  at: string | null;
}

const ORDER: readonly Step[] = [
  'pending',
  'confirmed',
  'preparing',
  'assigned',
  'ready_for_pickup',
  'picked_up',
  'delivered',
];

const LABEL: Record<Step, string> = {
  pending: 'Order placed',
  confirmed: 'Confirmed by the store',
  preparing: 'Being prepared',
  assigned: 'Driver assigned',
  ready_for_pickup: 'Ready for pickup',
  picked_up: 'Picked up: on the way',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
};

const TIMESTAMP: Record<Step, keyof Order['timestamps']> = {
  pending: 'createdAt',
  confirmed: 'confirmedAt',
  preparing: 'preparingAt',
  assigned: 'assignedAt',
  ready_for_pickup: 'readyAt',
  picked_up: 'pickedUpAt',
  delivered: 'deliveredAt',
  cancelled: 'cancelledAt',
};

const STATUSES = new Set<string>([...ORDER, 'cancelled']);

/**
 * Adds a live event's step. An event id seen before (a replay after a reconnect) and a step
 * already known change nothing, so replays never duplicate an entry.
 */
export function addLiveStep(live: readonly LiveStep[], event: ServerEvent): readonly LiveStep[] {
  const step = stepOf(event);
  if (!step) return live;
  if (live.some((s) => s.eventId === event.id || s.step === step)) return live;
  return [...live, { eventId: event.id, step, at: event.at }];
}

function stepOf(event: ServerEvent): Step | null {
  if (event.type === 'order.assigned') return 'assigned';
  if (event.type !== 'order.status') return null;
  const status = (event.data as { status?: unknown } | null)?.status;
  return typeof status === 'string' && STATUSES.has(status) ? (status as Step) : null;
}

/**
 * The timeline: each step once, the ones done in the order they happened (the server's
 * timestamps first, live events for what the server has not told yet), then the ones to come.
 */
export function buildTimeline(order: Order, live: readonly LiveStep[]): TimelineEntry[] {
  const done = new Map<Step, string>();
  for (const step of [...ORDER, 'cancelled'] as Step[]) {
    const at = order.timestamps[TIMESTAMP[step]];
    if (at) done.set(step, at);
  }
  for (const s of live) if (!done.has(s.step)) done.set(s.step, s.at);

  const entries: TimelineEntry[] = [...done.entries()]
    .map(([step, at]) => ({ step, label: LABEL[step], at }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a.step) - rank(b.step));

  const finished = done.has('delivered') || done.has('cancelled');
  if (!finished) {
    for (const step of ORDER) {
      if (!done.has(step)) entries.push({ step, label: LABEL[step], at: null });
    }
  }
  return entries;
}

const rank = (step: Step) => (step === 'cancelled' ? ORDER.length : ORDER.indexOf(step));
