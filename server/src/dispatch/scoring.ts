/**
 * Driver scoring for matching (design: "Scoring-based Driver Matching").
 *
 *   score = 0.40·distance + 0.25·rating + 0.20·acceptance + 0.15·load
 *
 * Each part is normalised to [0, 1], higher is better:
 * - distance:   1 − d / maxRadiusKm (0 at the edge of the widest search ring);
 * - rating:     (stars − 1) / 4; an unrated driver counts as NEUTRAL_RATING stars;
 * - acceptance: (accepted + 1) / (received + 2), Laplace-smoothed so a new driver starts at 0.5
 *               and one early reject does not sink them;
 * - load:       1 − active / maxActive (an idle driver scores 1).
 */
export const WEIGHTS = { distance: 0.4, rating: 0.25, acceptance: 0.2, load: 0.15 } as const;
export const NEUTRAL_RATING = 4;

export interface CandidateFacts {
  distanceKm: number;
  rating: number | null;
  offersReceived: number;
  offersAccepted: number;
  activeOrders: number;
  maxActiveOrders: number;
}

export interface ScoreParts {
  distance: number;
  rating: number;
  acceptance: number;
  load: number;
  total: number;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function scoreCandidate(c: CandidateFacts, maxRadiusKm: number): ScoreParts {
  const distance = clamp01(1 - c.distanceKm / maxRadiusKm);
  const rating = clamp01(((c.rating ?? NEUTRAL_RATING) - 1) / 4);
  const acceptance = clamp01((c.offersAccepted + 1) / (c.offersReceived + 2));
  const load = clamp01(1 - c.activeOrders / Math.max(1, c.maxActiveOrders));
  const total =
    WEIGHTS.distance * distance +
    WEIGHTS.rating * rating +
    WEIGHTS.acceptance * acceptance +
    WEIGHTS.load * load;
  return { distance, rating, acceptance, load, total };
}

/** Best first; ties go to the nearer driver, then to the id, so the order is deterministic. */
export function rankCandidates<T extends CandidateFacts & { id: string }>(
  candidates: T[],
  maxRadiusKm: number,
): Array<T & { score: ScoreParts }> {
  return candidates
    .map((c) => ({ ...c, score: scoreCandidate(c, maxRadiusKm) }))
    .sort(
      (a, b) =>
        b.score.total - a.score.total || a.distanceKm - b.distanceKm || a.id.localeCompare(b.id),
    );
}
