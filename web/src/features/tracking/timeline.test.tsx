// @vitest-environment happy-dom
import type { Order, ServerEvent } from '@delivery/contracts';
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { order as orderFixture } from '../../test/fixtures.ts';
import { socketFactory, type FakeSocket } from '../../test/fakeSocket.ts';
import { fakeFetch, json, renderWithProviders, testRealtime } from '../../test/providers.tsx';
import { OrderTimeline } from './OrderTimeline.tsx';
import { addLiveStep, buildTimeline } from './timeline.ts';
import { useOrderTracking } from './useOrderTracking.ts';

const base = orderFixture();
const channel = `order:${base.id}`;
const t = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min)).toISOString();

function statusEvent(id: string, status: string, min: number): ServerEvent {
  return { id, type: 'order.status', channel, at: t(min), data: { orderId: base.id, status } };
}
const assigned = (id: string, min: number): ServerEvent => ({
  id,
  type: 'order.assigned',
  channel,
  at: t(min),
  data: { orderId: base.id, driverId: 'd1' },
});

function Tracking() {
  const { timeline } = useOrderTracking(base.id);
  return <OrderTimeline entries={timeline} />;
}

/** The steps shown as done, in order. */
function doneSteps(): string[] {
  return screen
    .queryAllByRole('listitem')
    .filter((li) => li.querySelector('time'))
    .map((li) => li.getAttribute('data-step') ?? '');
}

/** Plays the server's side of a (re)connection: ready, then `subscribed`. */
function serve(socket: FakeSocket, replayed = 0) {
  act(() => socket.open());
  expect(socket.sent[0]).toEqual({ type: 'auth', token: 'test-token' });
  act(() => socket.receive({ type: 'ready', userId: base.customerId, role: 'customer' }));
  act(() => socket.receive({ type: 'subscribed', channel, replayed }));
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('tracking timeline', () => {
  it('shows each step once however often its event arrives', () => {
    const events = [
      statusEvent('100-0', 'confirmed', 1),
      assigned('101-0', 2),
      statusEvent('102-0', 'preparing', 3),
    ];
    let live = events.reduce(addLiveStep, [] as ReturnType<typeof addLiveStep>);
    // The same events again (a replay), and a new id for a step already known.
    live = [...events, statusEvent('103-0', 'confirmed', 4)].reduce(addLiveStep, live);

    const steps = buildTimeline(base, live)
      .filter((e) => e.at)
      .map((e) => e.step);
    expect(steps).toEqual(['pending', 'confirmed', 'assigned', 'preparing']);
  });

  it('merges live steps with the timestamps the server reports later, without doubles', () => {
    const live = [statusEvent('100-0', 'confirmed', 1)].reduce(addLiveStep, []);
    const reread: Order = { ...base, timestamps: { ...base.timestamps, confirmedAt: t(1) } };
    const entries = buildTimeline(reread, live);
    expect(entries.filter((e) => e.step === 'confirmed')).toHaveLength(1);
    expect(entries.map((e) => e.step)).toEqual([
      'pending',
      'confirmed',
      'preparing',
      'assigned',
      'ready_for_pickup',
      'picked_up',
      'delivered',
    ]);
  });

  it('has no duplicate entries after a dropped connection replays events it had seen', async () => {
    let current: Order = base;
    const api = fakeFetch(() => json({ order: current }));
    vi.stubGlobal('fetch', api.fetch);
    const sockets = socketFactory();
    const { client } = testRealtime(sockets);
    renderWithProviders(<Tracking />, { realtime: client });

    await screen.findByText('Order placed');
    await waitFor(() => expect(sockets.sockets).toHaveLength(1));
    const first = sockets.last();
    serve(first);
    expect(first.sent[1]).toEqual({ type: 'subscribe', channel });

    act(() => {
      first.receive(statusEvent('1000-0', 'confirmed', 1));
      first.receive(assigned('1001-0', 2));
      first.receive(statusEvent('1002-0', 'preparing', 3));
      first.receive(statusEvent('1002-0', 'preparing', 3)); // delivered twice by the server
    });
    await waitFor(() =>
      expect(doneSteps()).toEqual(['pending', 'confirmed', 'assigned', 'preparing']),
    );

    // The line drops; meanwhile the order moved on. The client reconnects by itself.
    current = {
      ...base,
      status: 'ready_for_pickup',
      driverId: 'd1',
      timestamps: {
        ...base.timestamps,
        confirmedAt: t(1),
        assignedAt: t(2),
        preparingAt: t(3),
        readyAt: t(5),
      },
    };
    act(() => first.drop());
    await waitFor(() => expect(sockets.sockets).toHaveLength(2), { timeout: 2000 });
    const second = sockets.last();
    serve(second, 3);
    // It resumes after the last event it saw...
    expect(second.sent[1]).toEqual({ type: 'subscribe', channel, lastEventId: '1002-0' });
    // ...and the replay overlaps what it had (a server may resend), then brings the new step.
    act(() => {
      second.receive(assigned('1001-0', 2));
      second.receive(statusEvent('1002-0', 'preparing', 3));
      second.receive(statusEvent('1005-0', 'ready_for_pickup', 5));
      second.receive(statusEvent('1005-0', 'ready_for_pickup', 5));
    });

    await waitFor(() =>
      expect(doneSteps()).toEqual([
        'pending',
        'confirmed',
        'assigned',
        'preparing',
        'ready_for_pickup',
      ]),
    );
    // The order was read again after the reconnect; the timeline still has each step once.
    await waitFor(() => expect(api.calls.length).toBeGreaterThanOrEqual(2));
    const all = screen.getAllByRole('listitem').map((li) => li.getAttribute('data-step'));
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual([
      'pending',
      'confirmed',
      'assigned',
      'preparing',
      'ready_for_pickup',
      'picked_up',
      'delivered',
    ]);
  });
});
