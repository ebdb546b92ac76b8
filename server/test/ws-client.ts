import { ServerMessage } from '@delivery/contracts';
import WebSocket from 'ws';

/**
 * A `ws` client for the gateway tests. Every message is checked against the shared
 * `ServerMessage` schema and queued; `next` takes the first queued message matching a predicate
 * (waiting for it, never longer than the timeout), so tests wait for exactly what they expect.
 */
export interface WsClient {
  socket: WebSocket;
  /** Every message received, in order, consumed or not. */
  received: any[];
  /** Messages that broke the contract (should stay empty). */
  violations: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
  next(match?: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  /** The next `n` messages matching, in arrival order. */
  take(n: number, match?: (m: any) => boolean, timeoutMs?: number): Promise<any[]>;
  /** Resolves if nothing matching arrives within `ms`; rejects with what did arrive. */
  expectNothing(match: (m: any) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Sent as the `sid` cookie of the upgrade request. */
  cookie?: string;
  /** Sent as a first `auth` message once open. */
  token?: string;
  /** Wait for `ready` (default when a cookie or token is given). */
  awaitReady?: boolean;
  wsOptions?: WebSocket.ClientOptions;
}

const DEFAULT_TIMEOUT_MS = 4_000;

export const isEvent =
  (channel: string, type?: string) =>
  (m: any): boolean =>
    typeof m.id === 'string' && m.channel === channel && (type === undefined || m.type === type);

export async function connectWs(baseUrl: string, opts: ConnectOptions = {}): Promise<WsClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  const socket = new WebSocket(url, {
    ...opts.wsOptions,
    headers: opts.cookie ? { cookie: `sid=${opts.cookie}` } : {},
  });
  const received: any[] = [];
  const queue: any[] = [];
  const violations: unknown[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };

  socket.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = text;
    }
    if (!ServerMessage.safeParse(msg).success) violations.push(msg);
    received.push(msg);
    queue.push(msg);
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      wake();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  // Protocol errors (an oversized frame, say) end in 'close', which the tests look at.
  socket.on('error', () => undefined);

  function next(match: (m: any) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return new Promise<any>((resolve, reject) => {
      const check = () => {
        const i = queue.findIndex(match);
        if (i >= 0) {
          done();
          resolve(queue.splice(i, 1)[0]);
        } else if (socket.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed while waiting; received ${JSON.stringify(received)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(queue)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  const client: WsClient = {
    socket,
    received,
    violations,
    closed,
    send: (msg) => socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    next,
    async take(n, match, timeoutMs) {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await next(match, timeoutMs));
      return out;
    },
    async expectNothing(match, ms = 300) {
      await new Promise((r) => setTimeout(r, ms));
      const hits = queue.filter(match);
      if (hits.length) throw new Error(`unexpected messages: ${JSON.stringify(hits)}`);
    },
    async close() {
      if (socket.readyState !== WebSocket.CLOSED) {
        socket.close();
        await closed;
      }
    },
  };
  if (opts.token) client.send({ type: 'auth', token: opts.token });
  if (opts.awaitReady ?? Boolean(opts.cookie || opts.token)) {
    const first = await next((m) => m.type === 'ready' || m.type === 'error');
    if (first.type !== 'ready') throw new Error(`not signed in: ${JSON.stringify(first)}`);
  }
  return client;
}
