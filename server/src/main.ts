import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@delivery/contracts';
import { loadConfig } from './config.ts';
import { createLogger } from './platform/logger.ts';
import { createPlatform } from './platform/platform.ts';

const config = loadConfig();
const logger = createLogger(config);
const platform = await createPlatform(config, logger);
await platform.app.listen({ port: config.port, host: config.host });

const mode = `${platform.infra.db.kind === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL'} + ${
  platform.infra.kv.kind === 'memory' ? 'in-process adapters' : 'Redis'
}`;
const url = `http://localhost:${config.port}`;
console.log(`\nDelivery platform listening on ${url} (${mode})`);
console.log(`API docs: ${url}/docs   health: ${url}/health/ready`);
if (config.seedDemo) {
  console.log(
    `Demo logins (password ${DEMO_PASSWORD}): ${DEMO_ACCOUNTS.map((a) => a.email).join(', ')}\n`,
  );
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new requests, finishing in-flight ones');
  const force = setTimeout(() => {
    logger.error({ step: platform.closing }, 'graceful shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownGraceMs);
  force.unref();
  try {
    await platform.close();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
