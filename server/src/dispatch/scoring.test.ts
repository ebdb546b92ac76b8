import { describe, expect, it } from 'vitest';
import { rankCandidates, scoreCandidate, WEIGHTS } from './scoring.ts';

const base = {
  distanceKm: 1,
  rating: 4.5,
  offersReceived: 10,
  offersAccepted: 8,
  activeOrders: 0,
  maxActiveOrders: 2,
};

describe('driver scoring', () => {
  it('weights the four parts 40/25/20/15 and sums them', () => {
    expect(WEIGHTS.distance + WEIGHTS.rating + WEIGHTS.acceptance + WEIGHTS.load).toBeCloseTo(1);
    const s = scoreCandidate(base, 10);
    expect(s.distance).toBeCloseTo(0.9);
    expect(s.rating).toBeCloseTo(0.875);
    expect(s.acceptance).toBeCloseTo(9 / 12);
    expect(s.load).toBe(1);
    expect(s.total).toBeCloseTo(0.4 * 0.9 + 0.25 * 0.875 + 0.2 * 0.75 + 0.15 * 1);
  });

  it('keeps every part in [0, 1], even outside the search radius or over the load limit', () => {
    const s = scoreCandidate({ ...base, distanceKm: 50, activeOrders: 5, rating: 5 }, 10);
    expect(s.distance).toBe(0);
    expect(s.load).toBe(0);
    expect(s.rating).toBe(1);
  });

  it('gives an unrated newcomer a neutral rating and a 0.5 acceptance rate', () => {
    const s = scoreCandidate({ ...base, rating: null, offersReceived: 0, offersAccepted: 0 }, 10);
    expect(s.rating).toBeCloseTo(0.75);
    expect(s.acceptance).toBe(0.5);
  });

  it('ranks a nearer driver first when all else is equal, and a much better-rated one over a slightly nearer one', () => {
    const ranked = rankCandidates(
      [
        { ...base, id: 'far', distanceKm: 4 },
        { ...base, id: 'near', distanceKm: 1 },
      ],
      10,
    );
    expect(ranked.map((c) => c.id)).toEqual(['near', 'far']);
    const trade = rankCandidates(
      [
        { ...base, id: 'close-poor', distanceKm: 1.0, rating: 1.5, offersAccepted: 1 },
        { ...base, id: 'bit-further-great', distanceKm: 1.5, rating: 5 },
      ],
      10,
    );
    expect(trade[0]!.id).toBe('bit-further-great');
  });

  it('prefers an idle driver over a busy one at the same spot', () => {
    const ranked = rankCandidates(
      [
        { ...base, id: 'busy', activeOrders: 1 },
        { ...base, id: 'idle', activeOrders: 0 },
      ],
      10,
    );
    expect(ranked[0]!.id).toBe('idle');
  });
});
