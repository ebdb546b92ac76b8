// @vitest-environment happy-dom
import type { Offer } from '@delivery/contracts';
import { QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch, json, testQueryClient } from '../../test/providers.tsx';
import { order } from '../../test/fixtures.ts';
import { OfferCard } from './OfferCard.tsx';
import { secondsLeft } from './OfferCountdown.tsx';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function offer(overrides: Partial<Offer> = {}): Offer {
  return {
    id: '55555555-5555-4555-8555-555555555555',
    orderId: order().id,
    status: 'pending',
    offeredAt: iso(T0),
    expiresAt: iso(T0 + 30_000),
    distanceKm: 0.8,
    earningsCents: 356,
    pickup: {
      name: 'Trattoria Neckarblick',
      address: 'Hauptstraße 112, 69117 Heidelberg',
      lat: 49.4107,
      lng: 8.7035,
    },
    dropoff: { address: 'Plöck 45, 69117 Heidelberg', lat: 49.4092, lng: 8.699 },
    deliveryDistanceKm: 0.7,
    ...overrides,
  };
}

/** The card alone (no router: it needs none, and the router's start-up waits on real timers). */
const renderCard = (o: Offer) =>
  render(
    <QueryClientProvider client={testQueryClient()}>
      <OfferCard offer={o} />
    </QueryClientProvider>,
  );
const timer = () => screen.getByRole('timer');
const left = () => Number(timer().getAttribute('data-seconds-left'));
const advance = (ms: number) =>
  act(() => {
    vi.advanceTimersByTime(ms);
  });

beforeEach(() => {
  vi.useFakeTimers({
    now: T0,
    toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'],
  });
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('offer countdown', () => {
  it('counts down from expiresAt, second by second', () => {
    renderCard(offer());
    expect(left()).toBe(30);
    expect(timer().textContent).toBe('30s');
    advance(1_000);
    expect(left()).toBe(29);
    advance(9_000);
    expect(left()).toBe(20);
    expect(timer().getAttribute('aria-label')).toBe('20 seconds left to answer');
    // Pickup, drop-off, distances and earnings are on the card.
    expect(screen.getByText('Trattoria Neckarblick')).toBeTruthy();
    expect(screen.getByText('Plöck 45, 69117 Heidelberg')).toBeTruthy();
    expect(screen.getByText('800 m')).toBeTruthy();
    expect(screen.getByText('700 m')).toBeTruthy();
    expect(screen.getByText('€3.56')).toBeTruthy();
  });

  it('shows the offer expired at 0 and no longer lets the driver answer', () => {
    renderCard(offer());
    advance(29_000);
    expect(left()).toBe(1);
    expect(screen.getByRole('button', { name: 'Accept' })).toHaveProperty('disabled', false);
    advance(1_000);
    expect(left()).toBe(0);
    expect(timer().textContent).toBe('Expired');
    expect(timer().getAttribute('aria-label')).toBe('Offer expired');
    expect(screen.queryByRole('button', { name: 'Accept' })).toBeNull();
    expect(screen.getByText(/Too late for this one/)).toBeTruthy();
    advance(5_000);
    expect(left()).toBe(0);
  });

  it('stops counting once the driver accepts', async () => {
    // The server takes its time to answer; the countdown must not run on meanwhile.
    let answer: (r: Response) => void = () => undefined;
    const api = fakeFetch(() => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal('fetch', api.fetch);
    renderCard(offer());
    advance(12_000);
    expect(left()).toBe(18);

    fireEvent.click(screen.getByRole('button', { name: 'Accept' }));
    // TanStack Query tells components on a zero-delay timer.
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]).toMatchObject({
      method: 'POST',
      url: `/api/v1/driver/offers/${offer().id}/accept`,
    });
    expect(screen.getByRole('button', { name: /Accepting/ })).toHaveProperty('disabled', true);
    advance(10_000);
    expect(left()).toBe(18);

    // Accepted: still stopped, also past the original deadline.
    await act(async () => {
      answer(json({ order: order({ status: 'confirmed', driverId: 'd1' }) }));
      await vi.runOnlyPendingTimersAsync();
    });
    advance(20_000);
    expect(left()).toBe(18);
    expect(screen.queryByText('Expired')).toBeNull();
  });

  it('never shows more than the offer window when the device clock runs behind', () => {
    expect(secondsLeft(iso(T0 + 30_000), iso(T0), T0 - 60_000)).toBe(30);
    expect(secondsLeft(iso(T0 + 30_000), iso(T0), T0 + 29_001)).toBe(1);
    expect(secondsLeft(iso(T0 + 30_000), iso(T0), T0 + 31_000)).toBe(0);
  });
});
