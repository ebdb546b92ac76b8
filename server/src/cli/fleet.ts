/**
 * `npm run fleet -- provision --drivers N --customers M [--merchants K] --prefix sim
 *   --tokens-out fleet.json`
 *
 * Creates simulated accounts straight in the database (one shared password hash, computed
 * once) and opens a session for each in the session table, writing the tokens to a JSON file
 * the simulator and the benchmark read (`npm run sim -- --tokens fleet.json`). Addresses are
 * always `<prefix>-<kind>-<n>@sim.local`. It refuses to run with NODE_ENV=production unless
 * `--i-know-this-is-production` is given. Uses DATABASE_URL (or the embedded database in
 * DATA_DIR, while no server has it open). See docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PasswordHasher } from '../auth/passwords.ts';
import { loadConfig } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { ensurePartitions } from '../db/partitions.ts';
import { IN_MEMORY, createInfra } from '../platform/infra.ts';
import { createLogger } from '../platform/logger.ts';
import { provisionFleet, SIM_DOMAIN } from './provision.ts';

const USAGE = `usage: npm run fleet -- provision --drivers N --customers M [options]
  --merchants K                 simulated stores with a small menu each (default 0)
  --prefix P                    account prefix: <P>-driver-<n>@${SIM_DOMAIN} (default sim)
  --tokens-out FILE             where to write the tokens (default fleet-tokens.json; mode 0600)
  --area LAT,LNG,KM             where stores are placed (default Heidelberg 49.4075,8.6925,3)
  --ttl-hours H                 session lifetime (default SESSION_TTL_HOURS)
  --password PW                 make the accounts usable with a password too (default: a random
                                one that is thrown away, so only the tokens sign them in)
  --i-know-this-is-production   needed when NODE_ENV=production`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    drivers: { type: 'string', default: '0' },
    customers: { type: 'string', default: '0' },
    merchants: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'sim' },
    'tokens-out': { type: 'string', default: 'fleet-tokens.json' },
    area: { type: 'string', default: '49.4075,8.6925,3' },
    'ttl-hours': { type: 'string' },
    password: { type: 'string' },
    'i-know-this-is-production': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals[0] !== 'provision') fail('the only command is "provision"');

const config = loadConfig();
if (config.env === 'production' && !values['i-know-this-is-production']) {
  fail(
    'NODE_ENV=production: refusing to create simulated accounts. Pass --i-know-this-is-production if this really is meant for a production database.',
  );
}
if (!config.databaseUrl && config.dataDir === IN_MEMORY) {
  fail(
    'DATA_DIR=memory: an in-memory database dies with this process; set DATABASE_URL or DATA_DIR',
  );
}
const count = (name: 'drivers' | 'customers' | 'merchants', max: number) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0 || n > max) fail(`--${name}: a whole number 0..${max}`);
  return n;
};
const drivers = count('drivers', 1_000_000);
const customers = count('customers', 1_000_000);
const merchants = count('merchants', 100_000);
const [lat, lng, radiusKm] = values.area.split(',').map(Number);
if (![lat, lng, radiusKm].every(Number.isFinite)) fail('--area: LAT,LNG,KM');
const ttlMs =
  values['ttl-hours'] !== undefined ? Number(values['ttl-hours']) * 3_600_000 : config.sessionTtlMs;
if (!(ttlMs > 0)) fail('--ttl-hours: a positive number');

const infra = await createInfra(config, createLogger({ ...config, logLevel: 'warn' }));
try {
  await migrate(infra.db);
  await ensurePartitions(infra.db);
  const started = performance.now();
  // One hash for the whole fleet: the point is not to spend minutes in argon2.
  const hasher = new PasswordHasher(config.passwordHashMemoryKib);
  const passwordHash = await hasher.hash(values.password ?? randomBytes(32).toString('base64url'));
  const fleet = await provisionFleet(infra.db, {
    prefix: values.prefix,
    drivers,
    customers,
    merchants,
    area: { lat: lat!, lng: lng!, radiusKm: radiusKm! },
    passwordHash,
    sessionTtlMs: ttlMs,
    now: Date.now(),
  });
  // Relative to where `npm run fleet` was typed, not to the server workspace npm runs it in.
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values['tokens-out']);
  await writeFile(out, JSON.stringify(fleet), { mode: 0o600 });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `provisioned ${drivers} drivers, ${customers} customers, ${merchants} stores (${values.prefix}-*@${SIM_DOMAIN}) in ${seconds} s; tokens in ${out} (valid until ${fleet.expiresAt})`,
  );
} finally {
  await infra.close();
}
