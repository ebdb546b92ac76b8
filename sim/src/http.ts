import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Counters } from './stats.ts';

/** An HTTP answer that was not 2xx, with the platform's error code when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** A field of the error's `details` (`{error: {details: {...}}}`), if the server sent one. */
  detail(name: string): unknown {
    const error = (this.body as { error?: { details?: Record<string, unknown> } } | null)?.error;
    return error?.details?.[name];
  }
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Retry on network errors, 429, 502, 503 and 504. Safe for reads and for writes that carry
   * an idempotency key or are state transitions (a repeat answers 409, which callers handle).
   */
  retry?: boolean;
  /** Statuses the caller expects and handles (not counted as errors), e.g. 401 on a first login. */
  expected?: number[];
}

export interface ApiOptions {
  /** How long a request may wait for the answer's headers, and then between body chunks. */
  timeoutMs?: number;
  /**
   * Connections kept open to the server (default 256); further requests wait for one here.
   * Thousands of simulated people share this process, and a burst of them (the end of a
   * 503 pause) would otherwise open as many connections at once, each accepted and set up
   * by the server while it is already struggling.
   */
  connections?: number;
  maxRetries?: number;
  /** Called before each wait, e.g. to stop waiting when the simulation ends. */
  isStopped?: () => boolean;
  /** Told when the server asks us to hold off for a while (429/503 with a long Retry-After). */
  onPause?: (ms: number, status: number, path: string) => void;
  /**
   * What a refusal (429/5xx asking for a retry, or a network error) holds back: `client`
   * (default) every request of this client for the Retry-After or backoff, as one app would;
   * `request` only the request that got it, which waits that long before its retry, as one of
   * many independent phones or tablets would while the others carry on. Either way the
   * refusal halves how many requests this client lets out at once.
   */
  hold?: Hold;
}

/** The values of `hold`, as the command lines accept them. */
export const HOLDS = ['client', 'request'] as const;
export type Hold = (typeof HOLDS)[number];

/** The longest a refusal holds anything back, whatever the server asks. */
const MAX_HOLD_MS = 60_000;

const RETRYABLE = new Set([429, 502, 503, 504]);

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** The platform's WebSocket endpoint for its base URL (http → ws, https → wss). */
export function wsUrlOf(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/ws`;
}

/** The first value of a response header (undici gives repeated ones as an array). */
function headerOf(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/**
 * The platform's HTTP API as the simulator uses it. A 503 or 429 pauses every request of this
 * client (not just the one that got it; see `hold`) for the `Retry-After` time, or an
 * exponential backoff when the server names none, so a struggling server is not hammered.
 * Errors are counted by kind in `counters` (`http.<status>`, `http.network`).
 *
 * Requests go through an undici connection pool rather than `fetch`: the simulator shares the
 * machine it measures, and `fetch` (WHATWG streams, an AbortSignal per request) cost it several
 * times the CPU per request.
 */
export class Api {
  private pausedUntil = 0;
  /**
   * Requests let out at once: halved when the server refuses one (429/5xx that asks for a
   * retry), grown by one with each answer, up to `connections`. Without it, the end of a 503
   * pause let every request that had queued meanwhile out together, up to the pool's hundreds
   * of connections, which met the same saturated server and earned the next pause.
   */
  private limit: number;
  private readonly maxLimit: number;
  private inFlight = 0;
  private readonly gate: Array<() => void> = [];
  private lastCut = 0;
  private readonly maxRetries: number;
  private readonly hold: Hold;
  private readonly pool: Pool;
  /** The base URL's path (a platform behind a prefix), put before every request's path. */
  private readonly prefix: string;

  constructor(
    readonly baseUrl: string,
    private readonly counters: Counters,
    private readonly opts: ApiOptions = {},
  ) {
    this.maxRetries = opts.maxRetries ?? 5;
    this.hold = opts.hold ?? 'client';
    const url = new URL(baseUrl);
    this.prefix = url.pathname.replace(/\/$/, '');
    const timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxLimit = this.limit = opts.connections ?? 256;
    this.pool = new Pool(url.origin, {
      connections: this.maxLimit,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Requests made but not yet sent: waiting here for their turn or a connection. */
  waiting(): number {
    return this.gate.length + this.pool.stats.pending;
  }

  /** How many requests may be out at once right now (see `limit`). */
  get concurrency(): number {
    return Math.floor(this.limit);
  }

  /** Closes the connections once the requests under way are answered. */
  close(): Promise<void> {
    return this.pool.close();
  }

  get<T>(path: string, token?: string): Promise<T> {
    return this.request<T>('GET', path, { token, retry: true });
  }

  post<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, opts);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.waitIfPaused();
      let status: number;
      let retryAfter: string | null;
      let text: string;
      await this.turn();
      try {
        const res = await this.pool.request({
          path: this.prefix + path,
          method,
          headers: {
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...opts.headers,
          },
          body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        });
        status = res.statusCode;
        retryAfter = headerOf(res.headers['retry-after']);
        text = await res.body.text();
      } catch (err) {
        this.done(false);
        this.counters.inc('http.network');
        if (!opts.retry || attempt >= this.maxRetries || this.opts.isStopped?.()) {
          throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
        }
        await this.holdOff(this.backoffMs(attempt));
        continue;
      }
      this.done(!RETRYABLE.has(status));
      const body = parseBody(text);
      if (status >= 200 && status < 300) return body as T;
      if (!opts.expected?.includes(status)) this.counters.inc(`http.${status}`);
      if (RETRYABLE.has(status)) {
        const wait = retryAfterMs(retryAfter) ?? this.backoffMs(attempt);
        const again = opts.retry && attempt < this.maxRetries && !this.opts.isStopped?.();
        if (this.hold === 'client') {
          // Told once per pause, not once per request a busy server answered 503 at once.
          if (wait >= 5_000 && Date.now() + wait > this.pausedUntil + 1_000) {
            this.opts.onPause?.(wait, status, path);
          }
          this.pause(wait);
        } else if (again) {
          await this.holdOff(wait);
        }
        if (again) continue;
      }
      const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      throw new ApiError(
        status,
        typeof error?.code === 'string' ? error.code : `HTTP_${status}`,
        typeof error?.message === 'string' ? error.message : `${method} ${path}: ${status}`,
        body,
      );
    }
  }

  /** Waits until fewer than `limit` requests are out, first come first served. */
  private async turn(): Promise<void> {
    if (this.inFlight < Math.floor(this.limit) && this.gate.length === 0) {
      this.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.gate.push(resolve));
  }

  /** A request is answered: grow the limit if it was served, halve it (once a second) if not. */
  private done(served: boolean): void {
    this.inFlight -= 1;
    if (served) {
      this.limit = Math.min(this.maxLimit, this.limit + 1);
    } else if (Date.now() - this.lastCut >= 1_000) {
      // One cut per wave: the answers to a burst that met a full server come back together.
      this.lastCut = Date.now();
      this.limit = Math.max(1, this.limit / 2);
    }
    while (this.gate.length > 0 && this.inFlight < Math.floor(this.limit)) {
      this.inFlight += 1;
      this.gate.shift()!();
    }
  }

  private backoffMs(attempt: number): number {
    const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
    return base / 2 + Math.random() * (base / 2);
  }

  /** Waits `ms` before a retry: every request of this client, or only this one (`hold`). */
  private async holdOff(ms: number): Promise<void> {
    if (this.hold === 'client') return this.pause(ms);
    const until = Date.now() + Math.min(ms, MAX_HOLD_MS);
    await this.waitUntil(() => until);
  }

  private pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + Math.min(ms, MAX_HOLD_MS));
  }

  private waitIfPaused(): Promise<void> {
    return this.waitUntil(() => this.pausedUntil);
  }

  /** Sleeps until `deadline()` (read again each second: a pause may grow) or the run stops. */
  private async waitUntil(deadline: () => number): Promise<void> {
    while (Date.now() < deadline() && !this.opts.isStopped?.()) {
      await sleep(Math.min(1_000, deadline() - Date.now()));
    }
  }
}
