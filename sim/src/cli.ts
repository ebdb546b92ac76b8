/**
 * `npm run sim -- [options]`: a simulated city against a running platform. See
 * docs/benchmarks.md ("Simulator") for the options.
 */
import { parseArgs } from 'node:util';
import { readFleetFile } from './accounts.ts';
import { HOLDS, type Hold } from './http.ts';
import {
  DEFAULT_SIM_OPTIONS,
  Simulation,
  targetsOf,
  type SimOptions,
  type SimSummary,
} from './simulation.ts';

const HELP = `npm run sim -- [options]
  --target URL[,URL...]   platform base URL, or several instances' (actors take them in turn;
                          default ${DEFAULT_SIM_OPTIONS.target})
  --drivers N             virtual drivers (default ${DEFAULT_SIM_OPTIONS.drivers})
  --customers N           virtual customers (default ${DEFAULT_SIM_OPTIONS.customers})
  --orders-per-minute R   order rate, Poisson arrivals (default ${DEFAULT_SIM_OPTIONS.ordersPerMinute})
  --max-orders N          stop ordering after N orders (default: no limit)
  --area LAT,LNG,KM       centre and radius (default Heidelberg ${DEFAULT_SIM_OPTIONS.area.lat},${DEFAULT_SIM_OPTIONS.area.lng},${DEFAULT_SIM_OPTIONS.area.radiusKm})
  --duration S            seconds of ordering, then stop (default: until Ctrl-C)
  --drain S               after the duration, wait up to S s for open orders (default 0)
  --accept P              offer acceptance probability 0..1 (default ${DEFAULT_SIM_OPTIONS.acceptProbability})
  --offer-delay MIN,MAX   ms a driver looks at an offer (default ${DEFAULT_SIM_OPTIONS.offerDelayMs.join(',')})
  --seed S                seed: same seed, same decisions (default ${DEFAULT_SIM_OPTIONS.seed})
  --time-scale X          simulated seconds per real second for travel and kitchens (default 1)
  --tokens FILE           accounts from "npm run fleet -- provision --tokens-out FILE"
  --prefix P              account prefix when signing in over HTTP (default ${DEFAULT_SIM_OPTIONS.prefix})
  --merchant LOGIN        email:password of a store owner to simulate (repeatable; default the demo stores)
  --no-track              customers do not follow their orders over /ws
  --stay-online           leave drivers online at the end
  --hold client|request   what a 503 holds back: every request of that kind of actor (default)
                          or only the refused one, each person backing off on their own
  --json FILE             write the summary as JSON
  --osm FILE.pbf          not supported (drivers move in straight lines); see docs/benchmarks.md`;

function numberPair(text: string, name: string): [number, number] {
  const [a, b] = text.split(',').map(Number);
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`${name}: expected MIN,MAX`);
  return [a!, b!];
}

export function parseSimArgs(argv: string[]): {
  opts: Partial<SimOptions>;
  tokens?: string;
  json?: string;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      drivers: { type: 'string' },
      customers: { type: 'string' },
      'orders-per-minute': { type: 'string' },
      'max-orders': { type: 'string' },
      area: { type: 'string' },
      duration: { type: 'string' },
      drain: { type: 'string' },
      accept: { type: 'string' },
      'offer-delay': { type: 'string' },
      seed: { type: 'string' },
      'time-scale': { type: 'string' },
      tokens: { type: 'string' },
      prefix: { type: 'string' },
      merchant: { type: 'string', multiple: true },
      'no-track': { type: 'boolean' },
      'stay-online': { type: 'boolean' },
      hold: { type: 'string' },
      json: { type: 'string' },
      osm: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (values.osm) throw new Error('--osm is not supported: drivers move along straight lines');
  const num = (v: string | undefined, name: string, min = 0): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}`);
    return n;
  };
  const opts: Partial<SimOptions> = {};
  const set = <K extends keyof SimOptions>(k: K, v: SimOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set('target', values.target);
  set('drivers', num(values.drivers, 'drivers'));
  set('customers', num(values.customers, 'customers'));
  set('ordersPerMinute', num(values['orders-per-minute'], 'orders-per-minute'));
  set('maxOrders', num(values['max-orders'], 'max-orders'));
  set('durationS', num(values.duration, 'duration'));
  set('drainS', num(values.drain, 'drain'));
  const accept = num(values.accept, 'accept');
  if (accept !== undefined && accept > 1) throw new Error('--accept: a probability 0..1');
  set('acceptProbability', accept);
  if (values['offer-delay'])
    set('offerDelayMs', numberPair(values['offer-delay'], '--offer-delay'));
  set('seed', values.seed);
  set('timeScale', num(values['time-scale'], 'time-scale', 0.01));
  set('prefix', values.prefix);
  set('merchantLogins', values.merchant);
  if (values.hold !== undefined) {
    const hold = values.hold as Hold;
    if (!HOLDS.includes(hold)) throw new Error(`--hold: ${HOLDS.join(' or ')}`);
    opts.hold = hold;
  }
  if (values.area) {
    const [lat, lng, radiusKm] = values.area.split(',').map(Number);
    if (![lat, lng, radiusKm].every((x) => Number.isFinite(x)) || !(radiusKm! > 0)) {
      throw new Error('--area: expected LAT,LNG,KM');
    }
    opts.area = { lat: lat!, lng: lng!, radiusKm: radiusKm! };
  }
  if (values['no-track']) opts.trackOrders = false;
  if (values['stay-online']) opts.goOfflineOnStop = false;
  return { opts, tokens: values.tokens, json: values.json };
}

export function formatSummary(s: SimSummary): string {
  const l = s.latencyMs;
  const row = (name: string, x: (typeof l)['match'], unit: 'ms' | 's') => {
    const f = (v: number | null) =>
      v === null ? '-' : unit === 's' ? (v / 1000).toFixed(1) : v.toFixed(1);
    return `  ${name.padEnd(22)} n=${String(x.count).padEnd(7)} p50 ${f(x.p50)}${unit}  p95 ${f(x.p95)}${unit}  p99 ${f(x.p99)}${unit}  max ${f(x.max)}${unit}`;
  };
  const interesting = Object.entries(s.counters)
    .filter(([k]) =>
      /^(http\.|ws\.(error|close|disconnect|connect_failed|unexpected)|orders\.place_failed|driver\.|merchant\.|offers\.)/.test(
        k,
      ),
    )
    .map(([k, v]) => `${k}=${v}`);
  return [
    `Simulation summary after ${s.durationS}s`,
    `  drivers ${s.drivers.configured} (online ${s.drivers.online}, connected ${s.drivers.connected})`,
    `  orders placed ${s.orders.placed}, matched ${s.orders.matched}, delivered ${s.orders.delivered}, cancelled ${s.orders.cancelled}, still open ${s.orders.open}`,
    `  locations sent ${s.locations.sent}, acked ${s.locations.acked}`,
    row('order placement', l.placement, 'ms'),
    row('time to match', l.match, 's'),
    row('placed → delivered', l.delivery, 's'),
    row('location ack', l.locationAck, 'ms'),
    row('driver → customer', l.fanout, 'ms'),
    `  errors ${s.errors}${interesting.length ? `: ${interesting.join(' ')}` : ''}`,
  ].join('\n');
}

async function main() {
  const { opts, tokens, json } = parseSimArgs(process.argv.slice(2));
  if (tokens) {
    const file = await readFleetFile(tokens);
    opts.accounts = { drivers: file.drivers, customers: file.customers, merchants: file.merchants };
    if (!file.merchants.length) {
      // Fleet files may hold no stores: fall back to signing in the configured store owners.
      const { accountsOverHttp } = await import('./accounts.ts');
      const { Api } = await import('./http.ts');
      const { Counters } = await import('./stats.ts');
      const { Rng } = await import('./rng.ts');
      const more = await accountsOverHttp(
        new Api(targetsOf(opts.target ?? DEFAULT_SIM_OPTIONS.target)[0]!, new Counters()),
        {
          drivers: 0,
          customers: 0,
          prefix: 'sim',
          password: '',
          merchantLogins: opts.merchantLogins ?? DEFAULT_SIM_OPTIONS.merchantLogins,
          rng: new Rng('x'),
          log: console.log,
        },
      );
      opts.accounts.merchants = more.merchants;
    }
    opts.drivers ??= file.drivers.length;
    opts.customers ??= file.customers.length;
  }
  const tty = process.stdout.isTTY;
  const sim = new Simulation({
    ...opts,
    progress: tty
      ? (line) => process.stdout.write(`\r\x1b[2K${line}`)
      : (line) => console.log(line),
    log: (line) => (tty ? process.stdout.write(`\r\x1b[2K${line}\n`) : console.log(line)),
  });
  let interrupted = 0;
  const onSignal = () => {
    interrupted += 1;
    if (interrupted > 1) process.exit(130);
    console.log('\nstopping (Ctrl-C again to quit at once)…');
    void sim.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  console.log(
    `simulating ${opts.drivers ?? DEFAULT_SIM_OPTIONS.drivers} drivers against ${sim.opts.target} (seed ${sim.opts.seed})`,
  );
  const summary = await sim.run();
  if (tty) process.stdout.write('\n');
  console.log(formatSummary(summary));
  if (json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(json, JSON.stringify(summary, null, 2));
  }
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
