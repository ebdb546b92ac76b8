/**
 * `npm run demo`: the platform (embedded storage, data in ./data) plus a small simulated city
 * around the demo stores in Heidelberg — drivers roaming, customers ordering, stores cooking.
 * Open the printed URL and sign in as admin@demo.local / demo1234 to watch the fleet. Ctrl-C
 * stops both. Options after `--` go to the simulator (e.g. `npm run demo -- --drivers 20`).
 */
import { SERVER_NODE_FLAGS } from './bench/machine.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatSummary, parseSimArgs } from './cli.ts';
import { Simulation } from './simulation.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const target = `http://localhost:${port}`;
const { opts } = parseSimArgs(process.argv.slice(2));

console.log(
  `Starting the platform (${process.env.DATABASE_URL ? 'PostgreSQL' : `embedded database in ${process.env.DATA_DIR ?? './data'}`}) …`,
);
const server = spawn('node', [...SERVER_NODE_FLAGS, '--import', 'tsx', 'server/src/main.ts'], {
  cwd: ROOT,
  env: {
    ...process.env,
    PORT: String(port),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The simulated customers and drivers all come from this machine's address.
    RATE_LIMIT_REGISTER: process.env.RATE_LIMIT_REGISTER ?? '200/1h',
    RATE_LIMIT_API: process.env.RATE_LIMIT_API ?? '6000/1m',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
  // Its own process group: Ctrl-C reaches only the demo, which stops the simulation first
  // (drivers go offline) and then the server.
  detached: true,
});
process.on('exit', () => {
  if (!serverExited) server.kill('SIGKILL');
});
// The server's banner (plain lines) is shown; its JSON log lines only when they are warnings.
for (const stream of [server.stdout, server.stderr]) {
  createInterface({ input: stream }).on('line', (line) => {
    if (!line.startsWith('{')) console.log(line);
    else if (/"level":(4|5|6)0/.test(line)) console.log(`server: ${line.slice(0, 300)}`);
  });
}
let serverExited = false;
server.on('exit', (code) => {
  serverExited = true;
  if (!stopping) {
    console.error(
      `the server stopped (exit ${code}); is port ${port} taken? Try PORT=3100 npm run demo`,
    );
    process.exit(1);
  }
});

async function ready(): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${target}/health/ready`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the server did not become ready within 2 minutes');
}

let stopping = false;
let sim: Simulation | null = null;
async function shutdown(): Promise<void> {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('\nStopping the simulation and the server (Ctrl-C again to quit at once) …');
  const summary = sim ? await sim.stop() : null;
  if (summary) console.log(formatSummary(summary));
  if (!serverExited) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

await ready();
console.log(
  `\nA living city: ${opts.drivers ?? 8} drivers, ${opts.ordersPerMinute ?? 4} orders a minute around the demo stores. Watch it at ${target} (admin@demo.local / demo1234). Ctrl-C stops.\n`,
);
const tty = process.stdout.isTTY;
sim = new Simulation({
  target,
  drivers: 8,
  customers: 6,
  ordersPerMinute: 4,
  firstOrderAtOnce: true, // something to watch within seconds, not after a random gap
  prefix: 'demo',
  ...opts,
  progress: tty ? (line) => process.stdout.write(`\r\x1b[2K${line}`) : (line) => console.log(line),
  log: (line) => (tty ? process.stdout.write(`\r\x1b[2K${line}\n`) : console.log(line)),
});
const summary = await sim.run();
if (!stopping) {
  console.log(`\n${formatSummary(summary)}`);
  stopping = true;
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  process.exit(0);
}
