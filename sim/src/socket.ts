import WebSocket from 'ws';
import type { Counters } from './stats.ts';

/** A channel event as the server sends it (`docs/websocket.md`). */
export interface ChannelEventMsg {
  id: string;
  type: string;
  channel: string;
  at: string;
  data: unknown;
}

export interface SocketHandlers {
  /** Signed in (again): subscriptions are being renewed. */
  onReady?(): void;
  onEvent?(event: ChannelEventMsg): void;
  onAck?(seq: number, receivedAt: number): void;
  /** An `error` message that names the `seq` of a location it refused. */
  onLocationError?(seq: number, code: string): void;
  onDisconnect?(): void;
}

/** One WebSocket connection as `SimSocket` uses it, whichever client library is under it. */
export interface Wire {
  readonly isOpen: boolean;
  readonly isClosed: boolean;
  send(text: string): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
}

/** What a `Wire` tells its owner. `close` comes once, last, also after a failed handshake. */
export interface WireHandlers {
  open(): void;
  text(text: string): void;
  binary(): void;
  error(): void;
  close(code: number): void;
}

/** Opens one connection to `url`. */
export type Dial = (
  url: string,
  opts: { localAddress?: string; handshakeTimeoutMs: number },
  on: WireHandlers,
) => Wire;

/** `Dial` with the `ws` library: what every simulated app uses unless told otherwise. */
export const dialWs: Dial = (url, opts, on) => {
  const ws = new WebSocket(url, {
    localAddress: opts.localAddress,
    handshakeTimeout: opts.handshakeTimeoutMs,
    perMessageDeflate: false,
    // Text that is not UTF-8 fails JSON.parse in SimSocket and is counted as unexpected anyway.
    skipUTF8Validation: true,
  });
  ws.on('open', () => on.open());
  ws.on('message', (data: Buffer, isBinary: boolean) =>
    isBinary ? on.binary() : on.text(data.toString('utf8')),
  );
  ws.on('error', () => on.error());
  ws.on('close', (code: number) => on.close(code));
  return {
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    get isClosed() {
      return ws.readyState === WebSocket.CLOSED;
    },
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
  };
};

export interface SocketOptions {
  /** Local address to connect from (spreads many sockets over several source IPs). */
  localAddress?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  /** The client library to connect with (default `ws`). */
  dial?: Dial;
}

/** How the server writes an ack (`{"type":"ack","seq":N}`, docs/websocket.md). */
const ACK_PREFIX = '{"type":"ack","seq":';

/** Compares `<ms>-<seq>` event ids. */
function newerId(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

/**
 * One simulated app's `/ws` connection. Signs in with a first `auth` message, keeps its
 * subscriptions across reconnects (resubscribing with the last event id seen, so nothing is
 * missed or seen twice), reconnects with exponential backoff and jitter, and never throws on a
 * message it does not understand: it counts it (`ws.unexpected`) and moves on.
 */
export class SimSocket {
  private ws: Wire | null = null;
  private stopped = false;
  private ready = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly channels = new Map<string, string | undefined>();
  private readonly random: () => number;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly counters: Counters,
    private readonly handlers: SocketHandlers,
    private readonly opts: SocketOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
  }

  get isReady(): boolean {
    return this.ready && (this.ws?.isOpen ?? false);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ready = false;
    const ws = this.ws;
    this.ws = null;
    if (ws && !ws.isClosed) {
      try {
        ws.close(1000, 'simulation over');
      } catch {
        ws.terminate();
      }
    }
  }

  subscribe(channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.set(channel, undefined);
    if (this.isReady) this.send({ type: 'subscribe', channel });
  }

  unsubscribe(channel: string): void {
    if (!this.channels.delete(channel)) return;
    if (this.isReady) this.send({ type: 'unsubscribe', channel });
  }

  /** False when the socket is not signed in right now (the caller counts it as not sent). */
  send(msg: object): boolean {
    const ws = this.ws;
    if (!ws?.isOpen) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    const dial = this.opts.dial ?? dialWs;
    const ws: Wire = dial(
      this.url,
      { localAddress: this.opts.localAddress, handshakeTimeoutMs: 15_000 },
      {
        open: () => ws.send(JSON.stringify({ type: 'auth', token: this.token })),
        text: (text) => this.onMessage(text),
        binary: () => this.counters.inc('ws.unexpected'),
        error: () => this.counters.inc('ws.socket_error'),
        close: (code) => {
          if (this.ws !== ws) return;
          const wasReady = this.ready;
          this.ready = false;
          this.ws = null;
          if (this.stopped) return;
          this.counters.inc(wasReady ? 'ws.disconnect' : 'ws.connect_failed');
          this.counters.inc(`ws.close.${code}`);
          this.handlers.onDisconnect?.();
          this.scheduleReconnect(code);
        },
      },
    );
    this.ws = ws;
  }

  private scheduleReconnect(code: number): void {
    this.attempt += 1;
    // 4401: the session is gone; retrying fast cannot help. 4429: we were too chatty.
    const floor = code === 4401 ? 30_000 : code === 4429 ? 10_000 : (this.opts.minBackoffMs ?? 500);
    const cap = this.opts.maxBackoffMs ?? 30_000;
    const base = Math.min(cap, floor * 2 ** Math.min(this.attempt - 1, 8));
    const delay = base / 2 + this.random() * (base / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(text: string): void {
    try {
      this.handle(text);
    } catch {
      // A handler's bug must not take the socket (or the process) down.
      this.counters.inc('ws.handler_error');
    }
  }

  private handle(text: string): void {
    // Acks are most of what a reporting driver hears (one per location): read without parsing.
    if (text.startsWith(ACK_PREFIX) && text.endsWith('}')) {
      const seq = Number(text.slice(ACK_PREFIX.length, -1));
      if (Number.isSafeInteger(seq)) {
        this.handlers.onAck?.(seq, Date.now());
        return;
      }
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.counters.inc('ws.unexpected');
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.counters.inc('ws.unexpected');
      return;
    }
    const m = msg as Record<string, unknown>;
    if (typeof m.id === 'string' && typeof m.channel === 'string' && typeof m.type === 'string') {
      this.onEvent(m as unknown as ChannelEventMsg);
      return;
    }
    switch (m.type) {
      case 'ack':
        if (typeof m.seq === 'number') this.handlers.onAck?.(m.seq, Date.now());
        return;
      case 'ready':
        this.onReady();
        return;
      case 'error':
        this.onError(m);
        return;
      case 'subscribed':
      case 'unsubscribed':
      case 'pong':
        return;
      default:
        this.counters.inc('ws.unexpected');
    }
  }

  private onReady(): void {
    this.ready = true;
    this.attempt = 0;
    for (const channel of this.channels.keys()) this.sendSubscribe(channel);
    this.handlers.onReady?.();
  }

  private onEvent(event: ChannelEventMsg): void {
    if (!this.channels.has(event.channel)) return;
    const last = this.channels.get(event.channel);
    if (!newerId(event.id, last)) {
      this.counters.inc('ws.duplicate_event');
      return;
    }
    this.channels.set(event.channel, event.id);
    this.handlers.onEvent?.(event);
  }

  private onError(m: Record<string, unknown>): void {
    const code = typeof m.code === 'string' ? m.code : 'UNKNOWN';
    this.counters.inc(`ws.error.${code}`);
    if (typeof m.seq === 'number') this.handlers.onLocationError?.(m.seq, code);
    if (code === 'FORBIDDEN' && typeof m.channel === 'string') this.channels.delete(m.channel);
    if (code === 'UNAVAILABLE' && !this.ready && m.seq === undefined && m.channel === undefined) {
      // Signing in met a saturated server: the socket stays open, so ask again in a moment.
      this.soon(() => {
        if (!this.ready) this.send({ type: 'auth', token: this.token });
      });
    }
    if (code === 'UNAVAILABLE' && typeof m.channel === 'string') {
      // The server could not subscribe us; try that channel again in a moment.
      const channel = m.channel;
      this.soon(() => {
        if (this.channels.has(channel) && this.isReady) this.sendSubscribe(channel);
      });
    }
  }

  /** Runs `fn` in 1–3 s: a retry after the server said it was unavailable. */
  private soon(fn: () => void): void {
    setTimeout(fn, 1_000 + this.random() * 2_000).unref();
  }

  /** Subscribes from the last event id seen on `channel`, if any. */
  private sendSubscribe(channel: string): void {
    const lastEventId = this.channels.get(channel);
    this.send(
      lastEventId ? { type: 'subscribe', channel, lastEventId } : { type: 'subscribe', channel },
    );
  }
}
