import { describe, expect, it } from 'vitest';
import { dueMaintenance } from './autovacuum.ts';

describe('dueMaintenance (autovacuum at its default thresholds)', () => {
  it('vacuums a table with more than 50 + 20 % of its live rows dead', () => {
    const steps = dueMaintenance([
      { table: 'public.orders', live: 1_000, dead: 251, modifiedSinceAnalyze: 0 },
      { table: 'public.drivers', live: 1_000, dead: 250, modifiedSinceAnalyze: 0 },
    ]);
    expect(steps).toEqual([{ table: 'public.orders', action: 'vacuum' }]);
  });

  it('analyzes one with more than 50 + 10 % of its rows changed, and leaves a quiet one', () => {
    const steps = dueMaintenance([
      { table: 'public.offers', live: 0, dead: 0, modifiedSinceAnalyze: 51 },
      { table: 'public.menu', live: 900, dead: 10, modifiedSinceAnalyze: 140 },
      { table: 'public.users', live: 900, dead: 10, modifiedSinceAnalyze: 141 },
    ]);
    expect(steps).toEqual([
      { table: 'public.offers', action: 'analyze' },
      { table: 'public.users', action: 'analyze' },
    ]);
  });
});
