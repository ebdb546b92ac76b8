import { useCurrentOffer } from '../api/driver.ts';

/** A pending offer, next to "Deliveries" in the driver's top bar. */
export function OfferBadge() {
  const { data } = useCurrentOffer();
  if (!data) return null;
  return (
    <span className="ml-1.5 rounded-full bg-amber-400 px-1.5 py-0.5 text-xs font-semibold text-amber-950">
      <span className="sr-only">, new offer</span>
      <span aria-hidden>1</span>
    </span>
  );
}
