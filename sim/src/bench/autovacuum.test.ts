import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { createDatabase } from '../../../server/test/platform.ts';
import { dueMaintenance, startAutovacuumStandIn, type MaintenanceStep } from './autovacuum.ts';

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

describe.runIf(Boolean(process.env.DATABASE_URL))('startAutovacuumStandIn (PostgreSQL)', () => {
  it('vacuums a table full of dead rows once a round, and outlives losing its connection', async () => {
    const own = await createDatabase(process.env.DATABASE_URL!);
    const c = new pg.Client({ connectionString: own.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ autovacuum: string }>('SHOW autovacuum');
      const rounds: MaintenanceStep[][] = [];
      const standIn = await startAutovacuumStandIn(own.url, (steps) => rounds.push(steps), 100);
      if (rows[0]!.autovacuum !== 'off') {
        // The server does this work itself: the stand-in stays out of its way.
        expect(standIn).toBeNull();
        return;
      }
      expect(standIn).not.toBeNull();
      await c.query('CREATE TABLE churn (id int PRIMARY KEY, v int NOT NULL)');
      await c.query('INSERT INTO churn SELECT g, 0 FROM generate_series(1, 1000) g');
      await c.query('UPDATE churn SET v = 1'); // 1,000 dead rows
      await vi.waitFor(
        () => expect(rounds.flat()).toContainEqual({ table: 'public.churn', action: 'vacuum' }),
        { timeout: 15_000, interval: 100 },
      );
      const dead = await c.query<{ n: number }>(
        `SELECT n_dead_tup::int AS n FROM pg_stat_user_tables WHERE relname = 'churn'`,
      );
      expect(dead.rows[0]!.n).toBeLessThan(1_000);
      // Its connection is cut (a restart, an admin): the rounds fail, the process goes on.
      await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      await new Promise((r) => setTimeout(r, 500));
      const summary = await standIn!.stop();
      expect(summary.vacuums).toBeGreaterThanOrEqual(1);
      expect(summary.failures).toBeGreaterThanOrEqual(1);
    } finally {
      await c.end();
      await own.drop();
    }
  });
});
