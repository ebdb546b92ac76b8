import type { Accounts } from '../accounts.ts';
import type { SimOptions, SimSummary } from '../simulation.ts';

/** Messages between the bench (`run.ts`) and its load-generator processes (`worker.ts`). */
export type WorkerRole =
  /** Drivers that only report positions (ingest, and the background of fan-out). */
  | 'reporters'
  /** A whole simulation: drivers, customers, merchants (orders; tracked pairs of fan-out). */
  | 'sim';

/**
 * The WebSocket client of reporting drivers: `lean` (src/lean-ws.ts, the default) or the `ws`
 * library that the simulator's other sockets use.
 */
export type ReporterClient = 'lean' | 'ws';

export interface InitMessage {
  type: 'init';
  role: WorkerRole;
  worker: number;
  targets: string[];
  accounts: Accounts;
  localAddress: string;
  locationEveryMs: number;
  /** For `sim`: options beyond the accounts and the target. */
  sim?: Partial<SimOptions>;
  /** For `sim` in fan-out: ready once this many orders have a driver. */
  readyWhenMatched?: number;
  area: { lat: number; lng: number; radiusKm: number };
  seed: string;
  client: ReporterClient;
}

export interface GoMessage {
  type: 'go';
  durationMs: number;
  /** For `sim`: how long to wait after the duration for open orders to finish. */
  drainMs: number;
}

export type ToWorker = InitMessage | GoMessage | { type: 'exit' };

export interface TickMessage {
  type: 'tick';
  worker: number;
  sent: number;
  acked: number;
  connected: number;
  placed: number;
  matched: number;
  delivered: number;
}

export interface WorkerResult {
  worker: number;
  role: WorkerRole;
  counters: Record<string, number>;
  /** Encoded HDR histograms (microseconds). */
  histograms: Record<string, string>;
  /** In the measured window. */
  sent: number;
  acked: number;
  refused: number;
  /** Over the whole run (warm-up included): the no-loss check compares these. */
  totalSent: number;
  totalAcked: number;
  totalRefused: number;
  unacked: number;
  /** Each reporter's last acknowledged position. */
  lastAcked: Array<{ id: string; token: string; target: string; lat: number; lng: number }>;
  summary?: SimSummary;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssBytes: number;
  /** How late this generator's own event loop ran in the measured window (ms). */
  loopDelayMs: LoopDelay;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export type FromWorker =
  | { type: 'ready'; worker: number; connected: number; total: number; matched?: number }
  | TickMessage
  | { type: 'done'; result: WorkerResult }
  | { type: 'log'; worker: number; line: string };
