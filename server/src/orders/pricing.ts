/**
 * Server-side pricing. Clients never send prices; they are read from the menu inside the
 * order's transaction. Fee: a base plus a per-kilometre part of the straight-line distance
 * from the store, capped, so a far delivery inside the radius stays affordable.
 */
export const DELIVERY_FEE = { baseCents: 199, perKmCents: 79, maxCents: 1499 } as const;

export interface PricedLine {
  quantity: number;
  unitPriceCents: number;
}

export interface Price {
  subtotalCents: number;
  deliveryFeeCents: number;
  tipCents: number;
  totalCents: number;
}

export function deliveryFeeCents(distanceKm: number): number {
  const fee = DELIVERY_FEE.baseCents + Math.round(distanceKm * DELIVERY_FEE.perKmCents);
  return Math.min(fee, DELIVERY_FEE.maxCents);
}

export function priceOrder(lines: PricedLine[], distanceKm: number, tipCents: number): Price {
  const subtotalCents = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
  const fee = deliveryFeeCents(distanceKm);
  return {
    subtotalCents,
    deliveryFeeCents: fee,
    tipCents,
    totalCents: subtotalCents + fee + tipCents,
  };
}
