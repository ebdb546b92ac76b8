import pg from 'pg';

/** One table as `pg_stat_user_tables` counts it. */
export interface TableActivity {
  table: string;
  live: number;
  dead: number;
  modifiedSinceAnalyze: number;
}

export interface MaintenanceStep {
  table: string;
  /** VACUUM (ANALYZE) when enough rows are dead, ANALYZE alone when enough have changed. */
  action: 'vacuum' | 'analyze';
}

/**
 * What PostgreSQL's autovacuum would do now at its default settings: vacuum (and analyze) a
 * table with more than 50 + 20 % of its live rows dead, analyze one with more than 50 + 10 %
 * changed since its last analyze.
 */
export function dueMaintenance(tables: TableActivity[]): MaintenanceStep[] {
  const steps: MaintenanceStep[] = [];
  for (const t of tables) {
    if (t.dead > 50 + 0.2 * t.live) steps.push({ table: t.table, action: 'vacuum' });
    else if (t.modifiedSinceAnalyze > 50 + 0.1 * t.live)
      steps.push({ table: t.table, action: 'analyze' });
  }
  return steps;
}

export interface StandInSummary {
  /** Rounds that ran, one a minute (autovacuum's default naptime). */
  rounds: number;
  vacuums: number;
  analyzes: number;
  /** Wall time the rounds took, all together. */
  seconds: number;
  failures: number;
}

/**
 * Does autovacuum's work on the bench's own database when the server runs with autovacuum off
 * (CI machines turn it off; a production server keeps it on). Without it every update of an
 * order or a driver leaves a dead row for the rest of the run, each index look-up steps over
 * more of them, and the planner's statistics stay those of the empty tables it started with.
 * Answers null, and does nothing, when the server's autovacuum is on.
 */
export async function startAutovacuumStandIn(
  databaseUrl: string,
  onRound: (steps: MaintenanceStep[], ms: number) => void,
  everyMs = 60_000,
): Promise<{ stop(): Promise<StandInSummary> } | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection lost mid-run fails the round under way, and the next ones, not the bench.
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
  if (rows[0]?.autovacuum !== 'off') {
    await client.end();
    return null;
  }
  const summary: StandInSummary = { rounds: 0, vacuums: 0, analyzes: 0, seconds: 0, failures: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const round = async () => {
    const started = performance.now();
    try {
      const { rows: tables } = await client.query<TableActivity>(
        `SELECT format('%I.%I', schemaname, relname) AS "table", n_live_tup::int AS live,
                n_dead_tup::int AS dead, n_mod_since_analyze::int AS "modifiedSinceAnalyze"
         FROM pg_stat_user_tables`,
      );
      const steps = dueMaintenance(tables);
      for (const s of steps) {
        if (stopped) break;
        await client.query(`${s.action === 'vacuum' ? 'VACUUM (ANALYZE)' : 'ANALYZE'} ${s.table}`);
        if (s.action === 'vacuum') summary.vacuums += 1;
        else summary.analyzes += 1;
      }
      const ms = performance.now() - started;
      summary.rounds += 1;
      summary.seconds += ms / 1000;
      onRound(steps, ms);
    } catch {
      summary.failures += 1;
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = round().then(() => {
        if (!stopped) schedule();
      });
    }, everyMs);
  };
  schedule();
  let ended: Promise<StandInSummary> | undefined;
  return {
    /** Ends the rounds (waiting for one under way) and answers what they did; may be called again. */
    stop() {
      ended ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
        await client.end().catch(() => undefined);
        summary.seconds = Math.round(summary.seconds * 10) / 10;
        return summary;
      })();
      return ended;
    },
  };
}
