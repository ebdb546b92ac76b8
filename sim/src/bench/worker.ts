/**
 * A load-generator process of the benchmark: runs its share of virtual drivers (and, for the
 * `sim` role, customers and merchants) and reports counts, histograms and last positions to
 * the bench over IPC.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { newSimHistograms, OrderBook, type SimContext } from '../context.ts';
import { VirtualDriver } from '../driver.ts';
import { randomPointInDisc } from '../geo.ts';
import { Api, wsUrlOf } from '../http.ts';
import { dialLean } from '../lean-ws.ts';
import { Rng } from '../rng.ts';
import { Simulation } from '../simulation.ts';
import { Counters, encodeHistogram, type Histogram } from '../stats.ts';
import { TimerWheel } from '../wheel.ts';
import type { FromWorker, GoMessage, InitMessage, ToWorker, WorkerResult } from './protocol.ts';
import { settle } from './settle.ts';

const send = (msg: FromWorker) => process.send?.(msg);
/** Sockets of one load generator that may be connecting (not yet signed in) at once. */
const MAX_CONNECTING = 50;
/** Connecting stops waiting when no socket signed in for this long. */
const CONNECT_STALL_MS = 30_000;

let init: InitMessage;
let reporters: Array<{ driver: VirtualDriver; target: string }> = [];
let sim: Simulation | null = null;
const counters = new Counters();
let stopped = false;
let reporterHistograms: Record<string, Histogram> = {};
/**
 * The generator's own lateness: an ack read late because this process was busy (or not
 * scheduled) counts in the measured latency, so the report shows how much that was.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const ms = (ns: number) => Math.round(ns / 1e5) / 10;

function reporterContexts(msg: InitMessage): Map<string, SimContext> {
  const area = {
    centre: { lat: msg.area.lat, lng: msg.area.lng },
    radiusM: msg.area.radiusKm * 1000,
  };
  const histograms = newSimHistograms();
  reporterHistograms = histograms;
  // Reports go out from one timer, and (unless told otherwise) over the lean client: the
  // generator's own cost per update is then less of what the machine has to share.
  const wheel = new TimerWheel();
  const contexts = new Map<string, SimContext>();
  for (const target of msg.targets) {
    const ctx: SimContext = {
      api: new Api(target, counters, { isStopped: () => stopped }),
      wsUrl: wsUrlOf(target),
      counters,
      histograms,
      timeScale: 1,
      offerPolicy: { acceptProbability: 0, minDelayMs: 0, maxDelayMs: 0 },
      area,
      locationEveryMs: msg.locationEveryMs,
      stopped: () => stopped,
      log: (line) => send({ type: 'log', worker: msg.worker, line }),
      orders: new OrderBook(() => ctx),
      localAddress: () => msg.localAddress,
      dial: msg.client === 'lean' ? dialLean : undefined,
      repeat: wheel.every,
    };
    contexts.set(target, ctx);
  }
  return contexts;
}

async function startReporters(msg: InitMessage): Promise<void> {
  const contexts = reporterContexts(msg);
  const root = new Rng(`${msg.seed}/worker-${msg.worker}`);
  const accounts = msg.accounts.drivers;
  reporters = accounts.map((a, i) => {
    const target = msg.targets[i % msg.targets.length]!;
    const rng = root.fork(a.id);
    const area = contexts.get(target)!.area;
    const start = randomPointInDisc(() => rng.next(), area.centre, area.radiusM);
    const driver = new VirtualDriver(a, start, rng, contexts.get(target)!, i, {
      goOnline: false,
      moves: true,
      tickOnReport: true,
    });
    return { driver, target };
  });
  // Connect at most ~500 sockets a second per worker, and with at most MAX_CONNECTING of them
  // not yet signed in: a thundering herd of handshakes measures the accept queue and the
  // reconnect storm that follows time-outs, not the platform. A slower server is simply
  // connected to more slowly.
  const connected = () => reporters.filter((r) => r.driver.connected).length;
  let stalledSince = Date.now();
  let best = 0;
  /** Waits for sign-ins; false when none came for CONNECT_STALL_MS (the server is stuck). */
  const progressing = async () => {
    await sleep(50);
    const now = connected();
    if (now > best) [best, stalledSince] = [now, Date.now()];
    return Date.now() - stalledSince < CONNECT_STALL_MS;
  };
  for (let i = 0; i < reporters.length; i++) {
    void reporters[i]!.driver.start();
    if (i % 25 !== 24) continue;
    await sleep(50);
    while (i + 1 - connected() >= MAX_CONNECTING && (await progressing()));
  }
  while (connected() < reporters.length && (await progressing()));
}

function histogramsOf(): Record<string, Histogram> {
  return sim ? sim.ctx.histograms : reporterHistograms;
}

function tick(): void {
  const sent = counters.get('location.sent') + (sim?.counters.get('location.sent') ?? 0);
  const acked = counters.get('location.acked') + (sim?.counters.get('location.acked') ?? 0);
  send({
    type: 'tick',
    worker: init.worker,
    sent,
    acked,
    connected: sim
      ? sim.drivers.filter((d) => d.connected).length
      : reporters.filter((r) => r.driver.connected).length,
    placed: sim?.orders.placed ?? 0,
    matched: sim?.orders.matched ?? 0,
    delivered: sim?.orders.delivered ?? 0,
  });
}

async function go(msg: GoMessage): Promise<void> {
  // The measured window starts now: forget warm-up latencies and counts.
  for (const h of Object.values(histogramsOf())) h.reset();
  loopDelay.reset();
  const before = { ...counters.toJSON(), ...(sim ? sim.counters.toJSON() : {}) };
  const ticker = setInterval(tick, 1_000);
  await sleep(msg.durationMs);
  const loopDelayMs = {
    p50: ms(loopDelay.percentile(50)),
    p99: ms(loopDelay.percentile(99)),
    max: ms(loopDelay.max),
  };
  let summary;
  if (sim) {
    sim.stopOrdering();
    await sim.drain(msg.drainMs);
  } else {
    for (const r of reporters) r.driver.stopReporting();
    // Give what is in flight time to be acknowledged before calling it lost: as long as acks
    // still come (up to the drain), and 15 s (a handshake's timeout) once none does.
    await settle(() => reporters.reduce((n, r) => n + r.driver.unacked, 0), {
      quietMs: 15_000,
      maxMs: msg.drainMs,
    });
  }
  clearInterval(ticker);
  tick();
  if (sim) summary = sim.summary();
  const all = sim ? sim.counters.toJSON() : counters.toJSON();
  const diff: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) diff[k] = v - (before[k] ?? 0);
  const hist = histogramsOf();
  const usage = process.resourceUsage();
  const drivers = sim ? sim.drivers : reporters.map((r) => r.driver);
  const result: WorkerResult = {
    worker: init.worker,
    role: init.role,
    counters: diff,
    histograms: Object.fromEntries(Object.entries(hist).map(([k, h]) => [k, encodeHistogram(h)])),
    sent: diff['location.sent'] ?? 0,
    acked: diff['location.acked'] ?? 0,
    refused: Object.entries(diff)
      .filter(([k]) => k.startsWith('location.refused.'))
      .reduce((s, [, v]) => s + v, 0),
    totalSent: all['location.sent'] ?? 0,
    totalAcked: all['location.acked'] ?? 0,
    totalRefused: Object.entries(all)
      .filter(([k]) => k.startsWith('location.refused.'))
      .reduce((s, [, v]) => s + v, 0),
    unacked:
      drivers.reduce((s, d) => s + d.unacked, 0) + (diff['location.in_flight_at_disconnect'] ?? 0),
    lastAcked: reporters
      .filter((r) => r.driver.lastAcked)
      .map((r) => ({
        id: r.driver.account.id,
        token: r.driver.account.token,
        target: r.target,
        lat: r.driver.lastAcked!.lat,
        lng: r.driver.lastAcked!.lng,
      })),
    summary,
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
    maxRssBytes: usage.maxRSS * 1024,
    loopDelayMs,
  };
  send({ type: 'done', result });
}

async function start(msg: InitMessage): Promise<void> {
  init = msg;
  if (msg.role === 'reporters') {
    await startReporters(msg);
    const connected = reporters.filter((r) => r.driver.connected).length;
    send({ type: 'ready', worker: msg.worker, connected, total: reporters.length });
    return;
  }
  sim = new Simulation({
    ...msg.sim,
    // Drivers, customers and stores take the server processes in turn, as the reporters do.
    target: msg.targets.join(','),
    accounts: msg.accounts,
    drivers: msg.accounts.drivers.length,
    customers: msg.accounts.customers.length,
    area: msg.area,
    seed: `${msg.seed}/worker-${msg.worker}`,
    locationEveryMs: msg.locationEveryMs,
    localAddresses: [msg.localAddress],
    leanSockets: msg.client === 'lean',
    progressEveryMs: 0,
    goOfflineOnStop: false,
    log: (line) => send({ type: 'log', worker: msg.worker, line }),
  });
  await sim.start();
  if (msg.readyWhenMatched) {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && sim.orders.matched < msg.readyWhenMatched) await sleep(500);
  }
  send({
    type: 'ready',
    worker: msg.worker,
    connected: sim.drivers.filter((d) => d.connected).length,
    total: sim.drivers.length,
    matched: sim.orders.matched,
  });
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'init') {
    start(msg).catch((err: unknown) => {
      send({ type: 'log', worker: msg.worker, line: `init failed: ${String(err)}` });
      process.exit(1);
    });
  } else if (msg.type === 'go') {
    go(msg).catch((err: unknown) => {
      send({ type: 'log', worker: init.worker, line: `run failed: ${String(err)}` });
      process.exit(1);
    });
  } else {
    stopped = true;
    void (async () => {
      if (sim) await sim.stop();
      for (const r of reporters) void r.driver.stop(false);
      await sleep(200);
      process.exit(0);
    })();
  }
});
process.on('disconnect', () => process.exit(0));
