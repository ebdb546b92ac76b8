import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../app.ts';
import type { Config } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { ensurePartitions } from '../db/partitions.ts';
import { isDatabaseEmpty, seedDemoData } from '../db/seed.ts';
import { createServices, type Services } from '../services.ts';
import { startBackgroundWork, type BackgroundStep } from './background.ts';
import type { Clock } from './clock.ts';
import { createInfra, type Infra } from './infra.ts';

export interface Platform {
  app: FastifyInstance;
  infra: Infra;
  services: Services;
  /** True when this start loaded the demo data into an empty database. */
  seeded: boolean;
  /**
   * The shutdown step under way, null before `close()` and after it: a shutdown that hangs
   * says where (the forced exit logs it, and so does a test whose teardown times out).
   */
  readonly closing: ShutdownStep | null;
  close(): Promise<void>;
}

/** The steps of `close()`, in order. */
export type ShutdownStep = 'http' | BackgroundStep | 'infra';

/** One server process: infrastructure, schema, demo data on an empty database, the HTTP app. */
export async function createPlatform(
  config: Config,
  logger: Logger,
  opts: { clock?: Clock } = {},
): Promise<Platform> {
  const infra = await createInfra(config, logger, opts.clock);
  try {
    const applied = await migrate(infra.db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    await ensurePartitions(infra.db);
    const services = createServices(config, infra, logger);
    let seeded = false;
    if (config.seedDemo && (await isDatabaseEmpty(infra.db))) {
      seeded = (await seedDemoData(infra.db, services.hasher)).created;
    }
    const app = await buildApp({ config, infra, services, logger });
    const background = startBackgroundWork(config, infra, services, logger);
    let closing: ShutdownStep | null = null;
    const steps: ReadonlyArray<readonly [ShutdownStep, () => Promise<void>]> = [
      ['http', () => app.close()], // new requests refused, in-flight ones and sockets finished
      ...background.stopSteps,
      ['infra', () => infra.close()],
    ];
    return {
      app,
      infra,
      services,
      seeded,
      get closing() {
        return closing;
      },
      async close() {
        try {
          for (const [step, run] of steps) {
            closing = step;
            await run();
          }
        } finally {
          closing = null;
        }
      },
    };
  } catch (err) {
    await infra.close();
    throw err;
  }
}
