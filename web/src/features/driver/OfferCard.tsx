import type { Offer } from '@delivery/contracts';
import { useAcceptOffer, useRejectOffer } from '../../api/driver.ts';
import { Button, ErrorNotice } from '../../components/ui.tsx';
import { formatCents, formatKm } from '../../lib/format.ts';
import { OfferCountdown, useOfferCountdown } from './OfferCountdown.tsx';

/**
 * A new delivery offered to the driver: where to pick up and drop off, how far, what it pays,
 * and the seconds left to answer. The countdown stops once the driver answers.
 */
export function OfferCard({ offer }: { offer: Offer }) {
  const accept = useAcceptOffer();
  const reject = useRejectOffer();
  const answered = accept.isPending || accept.isSuccess || reject.isPending || reject.isSuccess;
  const { left, total, expired } = useOfferCountdown(offer.expiresAt, offer.offeredAt, answered);

  return (
    <section
      aria-labelledby={`offer-${offer.id}`}
      className="rounded-xl border-2 border-amber-400 bg-amber-50 p-4 shadow-md"
    >
      <div className="flex items-baseline justify-between gap-2">
        <h2 id={`offer-${offer.id}`} className="text-lg font-semibold">
          New delivery offer
        </h2>
        <p className="text-2xl font-bold text-emerald-700 tabular-nums">
          <span className="sr-only">Earnings </span>
          {formatCents(offer.earningsCents)}
        </p>
      </div>
      <div className="mt-2">
        <OfferCountdown left={left} total={total} stopped={answered} />
      </div>
      <dl className="mt-3 space-y-2 text-sm">
        <div>
          <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase">Pickup</dt>
          <dd>
            <span className="font-medium">{offer.pickup.name}</span>
            <span className="block text-slate-600">{offer.pickup.address}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase">Drop-off</dt>
          <dd className="text-slate-700">{offer.dropoff.address}</dd>
        </div>
        <div className="flex gap-6">
          <div>
            <dt className="text-xs text-slate-500">To pickup</dt>
            <dd className="font-medium tabular-nums">{formatKm(offer.distanceKm)}</dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Delivery</dt>
            <dd className="font-medium tabular-nums">{formatKm(offer.deliveryDistanceKm)}</dd>
          </div>
        </div>
      </dl>
      {accept.error && (
        <div className="mt-3">
          <ErrorNotice error={accept.error} />
        </div>
      )}
      {reject.error && (
        <div className="mt-3">
          <ErrorNotice error={reject.error} />
        </div>
      )}
      {expired && !answered ? (
        <p className="mt-3 text-sm text-slate-600">
          Too late for this one: it goes to another driver. The next offer shows up here.
        </p>
      ) : (
        <div className="mt-4 grid grid-cols-3 gap-2">
          <Button
            variant="secondary"
            className="py-3"
            disabled={answered || expired}
            busy={reject.isPending}
            onClick={() => reject.mutate(offer.id)}
          >
            Reject
          </Button>
          <Button
            className="col-span-2 py-3 text-base"
            disabled={answered || expired}
            busy={accept.isPending}
            onClick={() => accept.mutate(offer.id)}
          >
            {accept.isPending || accept.isSuccess ? 'Accepting…' : 'Accept'}
          </Button>
        </div>
      )}
    </section>
  );
}
