import { useNow } from '../../lib/useNow.ts';

/**
 * Seconds left to answer an offer, counted down from the server's `expiresAt`. The offer's own
 * window (`expiresAt - offeredAt`, 30 s by default) caps it, so a device clock running behind
 * the server's never shows more time than there is. `stopped` freezes it (the driver answered).
 */
export function secondsLeft(expiresAt: string, offeredAt: string, now: number): number {
  const expires = Date.parse(expiresAt);
  const window = Math.max(0, expires - Date.parse(offeredAt));
  return Math.ceil(Math.min(window, Math.max(0, expires - now)) / 1000);
}

export function useOfferCountdown(expiresAt: string, offeredAt: string, stopped = false) {
  const now = useNow(250, stopped);
  const left = secondsLeft(expiresAt, offeredAt, now);
  const total = Math.max(1, Math.round((Date.parse(expiresAt) - Date.parse(offeredAt)) / 1000));
  return { left, total, expired: left <= 0 };
}

export function OfferCountdown({
  left,
  total,
  stopped = false,
}: {
  left: number;
  total: number;
  stopped?: boolean;
}) {
  const urgent = left <= 10;
  return (
    <div className="flex items-center gap-3">
      <div
        role="timer"
        aria-live="off"
        aria-label={left > 0 ? `${left} seconds left to answer` : 'Offer expired'}
        data-seconds-left={left}
        className={`min-w-16 text-right text-3xl font-bold tabular-nums ${
          left <= 0 ? 'text-slate-400' : urgent ? 'text-red-600' : 'text-slate-900'
        }`}
      >
        {left > 0 ? `${left}s` : 'Expired'}
      </div>
      <div className="h-2 flex-1 overflow-hidden rounded-full bg-slate-200" aria-hidden>
        <div
          className={`h-full rounded-full ${stopped ? 'bg-slate-400' : urgent ? 'bg-red-500' : 'bg-brand-600'} transition-[width] duration-200`}
          style={{ width: `${Math.min(100, (left / total) * 100)}%` }}
        />
      </div>
    </div>
  );
}
