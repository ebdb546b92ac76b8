import { PasswordHasher } from '../auth/passwords.ts';
import { loadConfig } from '../config.ts';
import { createInfra } from '../platform/infra.ts';
import { createLogger } from '../platform/logger.ts';
import { migrate } from './migrate.ts';
import { ensurePartitions } from './partitions.ts';
import { seedDemoData } from './seed.ts';

/** `npm run db:migrate` and `npm run db:seed` (seed migrates first; both are idempotent). */
const command = process.argv[2];
if (command !== 'migrate' && command !== 'seed') {
  console.error('usage: cli.ts migrate|seed');
  process.exit(2);
}
const config = loadConfig();
const infra = await createInfra(config, createLogger({ ...config, logLevel: 'warn' }));
try {
  const applied = await migrate(infra.db);
  await ensurePartitions(infra.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  if (command === 'seed') {
    const { created } = await seedDemoData(
      infra.db,
      new PasswordHasher(config.passwordHashMemoryKib),
    );
    console.log(created ? 'demo data loaded' : 'demo data already present');
  }
} finally {
  await infra.close();
}
