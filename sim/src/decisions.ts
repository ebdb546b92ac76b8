import type { Rng } from './rng.ts';

export interface OfferPolicy {
  /** Probability of accepting an offer, 0..1. */
  acceptProbability: number;
  /** How long a driver looks at an offer before answering, ms (simulated time). */
  minDelayMs: number;
  maxDelayMs: number;
}

export interface OfferDecision {
  accept: boolean;
  delayMs: number;
}

/** A driver's answer to one offer: both the choice and the hesitation come from its stream. */
export function decideOffer(rng: Rng, policy: OfferPolicy): OfferDecision {
  const accept = rng.chance(policy.acceptProbability);
  const delayMs = rng.float(policy.minDelayMs, policy.maxDelayMs);
  return { accept, delayMs };
}
