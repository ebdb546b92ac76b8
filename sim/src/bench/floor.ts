/**
 * The machine's own price for one location update's transport, measured before each run.
 *
 * A driver's update is one small message to the server and one small answer back, over TCP,
 * between two processes on this machine. This measures exactly that and nothing else: plain
 * `net` sockets, fixed-size messages, no WebSocket framing, JSON or application code. What it
 * costs in CPU per round trip is a floor under the platform's own cost per update, and it
 * differs several-fold between machines of the same nominal size (virtualisation, kernel
 * mitigations), so a report that shows it can be compared with one from another machine.
 *
 * Run as a script, this file is one side of the measurement (`echo` or `client`); the bench
 * forks both and reads their CPU time over the measured window.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Small messages of a fixed size each way. A simulated location update is ~152 bytes on the
 * wire (144 of JSON and a 6-byte masked frame header) and its ack 27 (25 and 2): these are a
 * little smaller, and the figures in docs/benchmarks.md were measured with them.
 */
const MESSAGE_BYTES = 112;
const ANSWER_BYTES = 24;

export interface FloorOptions {
  /** Round trips per second, spread evenly over the sockets. */
  rate: number;
  sockets: number;
  /** Length of the measured window; the sockets are opened and warmed before it. */
  seconds: number;
}

export interface TransportFloor extends FloorOptions {
  roundTrips: number;
  /** CPU time per round trip, both processes, user + system. */
  cpuMicrosPerRoundTrip: number;
  clientMicros: number;
  serverMicros: number;
  /** The part of the total spent in the kernel (system time). */
  systemShare: number;
  /** `cpuMicrosPerRoundTrip × rate`: the cores the transport alone needs at this rate. */
  coresAtRate: number;
}

type Usage = { user: number; system: number };
type FromSide =
  | { type: 'listening'; port: number }
  | { type: 'ready' }
  | { type: 'usage'; usage: Usage; answered: number };

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

function forkSide(role: 'echo' | 'client', args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), [role, ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T extends FromSide['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FromSide, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromSide) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FromSide, { type: T }>);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`transport floor: the ${type} side exited early (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks an echo server and a client, runs `seconds` at `rate`, and returns the CPU it took. */
export async function measureTransportFloor(o: FloorOptions): Promise<TransportFloor> {
  const echo = forkSide('echo', []);
  let client: ChildProcess | undefined;
  try {
    const { port } = await next(echo, 'listening');
    client = forkSide('client', [String(port), String(o.sockets), String(o.rate)]);
    await next(client, 'ready');
    const start = [next(echo, 'usage'), next(client, 'usage')] as const;
    echo.send('usage');
    client.send('usage');
    const [e0, c0] = await Promise.all(start);
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const end = [next(echo, 'usage'), next(client, 'usage')] as const;
    echo.send('usage');
    client.send('usage');
    const [e1, c1] = await Promise.all(end);
    const roundTrips = c1.answered - c0.answered;
    if (roundTrips <= 0) throw new Error('transport floor: no round trip completed');
    const spent = (a: Usage, b: Usage) => b.user - a.user + (b.system - a.system);
    const serverMicros = spent(e0.usage, e1.usage) / roundTrips;
    const clientMicros = spent(c0.usage, c1.usage) / roundTrips;
    const system = e1.usage.system - e0.usage.system + (c1.usage.system - c0.usage.system);
    const total = serverMicros + clientMicros;
    return {
      ...o,
      roundTrips,
      cpuMicrosPerRoundTrip: round(total),
      clientMicros: round(clientMicros),
      serverMicros: round(serverMicros),
      systemShare: round(system / roundTrips / total, 2),
      coresAtRate: round((total * o.rate) / 1e6, 2),
    };
  } finally {
    for (const c of [client, echo]) if (c && c.exitCode === null) c.kill();
  }
}

/** One line for a report. */
export function describeFloor(f: TransportFloor): string {
  return (
    `a bare loopback TCP round trip (no WebSocket, JSON or platform code; ${f.sockets} sockets, ` +
    `${f.rate}/s for ${f.seconds} s) cost ${f.cpuMicrosPerRoundTrip} µs of CPU ` +
    `(sender ${f.clientMicros}, answerer ${f.serverMicros}; ${Math.round(f.systemShare * 100)} % in the kernel), ` +
    `which is ${Math.round(f.coresAtRate * 100)} % of one core at that rate before any work is done`
  );
}

function reportUsage(answered: () => number): void {
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send!({
      type: 'usage',
      usage: { user: u.user, system: u.system },
      answered: answered(),
    });
  });
  process.on('disconnect', () => process.exit(0));
}

function runEcho(): void {
  const answer = Buffer.alloc(ANSWER_BYTES, 0x61);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending = 0;
    socket.on('data', (chunk) => {
      pending += chunk.length;
      // One answer per whole message, as the platform acks each update.
      while (pending >= MESSAGE_BYTES) {
        pending -= MESSAGE_BYTES;
        socket.write(answer);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    process.send!({ type: 'listening', port: (server.address() as net.AddressInfo).port });
  });
  reportUsage(() => 0);
}

async function runClient(port: number, count: number, rate: number): Promise<void> {
  const message = Buffer.alloc(MESSAGE_BYTES, 0x62);
  let answered = 0;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let bytes = 0;
    s.on('data', (chunk) => {
      bytes += chunk.length;
      answered += Math.floor(bytes / ANSWER_BYTES);
      bytes %= ANSWER_BYTES;
    });
    s.on('error', () => undefined);
    sockets.push(s);
    if (sockets.length % 100 === 0) await once(s, 'connect');
  }
  await Promise.all(sockets.filter((s) => s.connecting).map((s) => once(s, 'connect')));
  // Every socket sends in turn, on an absolute schedule, as the drivers of the ingest do.
  const started = performance.now();
  let sent = 0;
  const tick = () => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) sockets[sent % sockets.length]!.write(message);
  };
  setInterval(tick, 5);
  setTimeout(() => process.send!({ type: 'ready' }), 1_000); // warm-up
  reportUsage(() => answered);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'echo') runEcho();
  else if (role === 'client') void runClient(Number(args[0]), Number(args[1]), Number(args[2]));
}
