import {
  ServerMessage,
  type ClientMessage,
  type LocationMessage,
  type ServerEvent,
} from '@delivery/contracts';
import { SeenIds } from './eventIds.ts';

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'signed-out';
export type ChannelState = 'subscribing' | 'live' | 'forbidden' | 'failed';

/** The server's answer to one `location` message: `ack`, or an error naming its `seq`. */
export type LocationReply =
  { seq: number; ok: true } | { seq: number; ok: false; code: string; message: string };

export interface ChannelListener {
  onEvent: (event: ServerEvent) => void;
  /** After every `subscribed`; `resumed` is true from the second one on (a reconnect). */
  onSubscribed?: (info: { replayed: number; resumed: boolean }) => void;
  onState?: (state: ChannelState, message?: string) => void;
}

/** The part of the browser's WebSocket the client uses, so tests can hand in a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export interface RealtimeOptions {
  url: () => string;
  token: () => string | null;
  createSocket?: (url: string) => SocketLike;
  /** The server closed with 4401: the session is gone. */
  onUnauthenticated?: () => void;
  /** Reconnect delays: `min(maxMs, baseMs * 2^attempt)`, with jitter. */
  backoff?: { baseMs: number; maxMs: number };
  /** Sends `ping` this often; a socket that answers nothing within `timeoutMs` is dropped. */
  heartbeat?: { everyMs: number; timeoutMs: number };
}

interface Channel {
  listeners: Set<ChannelListener>;
  seen: SeenIds;
  state: ChannelState;
  subscriptions: number;
}

const OPEN = 1;
const UNAUTHENTICATED = 4401;

/**
 * One WebSocket per tab, shared by every subscription. It signs in with the session's token as
 * the first message, subscribes to each channel that has listeners, and after any drop
 * reconnects with backoff and resubscribes with the last event id it saw, so the server replays
 * what was missed; ids seen before are dropped, so nothing reaches a listener twice.
 */
export class RealtimeClient {
  private socket: SocketLike | null = null;
  private state: ConnectionState = 'idle';
  private readonly channels = new Map<string, Channel>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly eventListeners = new Set<(event: ServerEvent) => void>();
  private readonly locationListeners = new Set<(reply: LocationReply) => void>();
  private locationSeq = 0;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private ready = false;

  constructor(private readonly opts: RealtimeOptions) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Listens to `channel` until the returned function is called. */
  subscribe(channel: string, listener: ChannelListener): () => void {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), seen: new SeenIds(), state: 'subscribing', subscriptions: 0 };
      this.channels.set(channel, entry);
      if (this.ready) this.sendSubscribe(channel, entry);
    }
    entry.listeners.add(listener);
    listener.onState?.(entry.state);
    this.ensureConnected();
    return () => this.unsubscribe(channel, listener);
  }

  /** Every event of every channel (the notification bell listens here). */
  onEvent(listener: (event: ServerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * Sends a driver's position over the socket (`{type:"location", seq}`); the answer comes to
   * `onLocationReply`. Returns the message's `seq`, or null when the socket is not signed in yet
   * (nothing was sent: report again later).
   */
  sendLocation(position: Omit<LocationMessage, 'type' | 'seq'>): number | null {
    if (!this.ready || this.socket?.readyState !== OPEN) return null;
    const seq = this.locationSeq++;
    this.send({ type: 'location', ...position, seq });
    return seq;
  }

  /** Answers to `sendLocation`: `ack {seq}` or `error {code, message, seq}`. */
  onLocationReply(listener: (reply: LocationReply) => void): () => void {
    this.locationListeners.add(listener);
    return () => this.locationListeners.delete(listener);
  }

  onConnectionState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** The signed-in user changed: drop the socket; the next subscription connects anew. */
  reset(): void {
    this.teardown();
    this.attempt = 0;
    this.setState('idle');
    if (this.channels.size > 0) this.ensureConnected();
  }

  /** The network is back: try at once instead of waiting out the backoff. */
  reconnectNow(): void {
    if (!this.reconnectTimer) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.connect();
  }

  /** Closes the socket as if the network dropped; it reconnects and resumes as after any drop. */
  drop(): void {
    if (!this.socket) return;
    this.teardown();
    this.scheduleReconnect();
  }

  private unsubscribe(channel: string, listener: ChannelListener): void {
    const entry = this.channels.get(channel);
    if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.channels.delete(channel);
    if (this.ready) this.send({ type: 'unsubscribe', channel });
  }

  private ensureConnected(): void {
    if (this.socket || this.reconnectTimer || this.state === 'signed-out') return;
    this.connect();
  }

  private connect(): void {
    const token = this.opts.token();
    if (!token) {
      this.setState('idle');
      return;
    }
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const create = this.opts.createSocket ?? ((url: string) => new WebSocket(url));
    const socket = create(this.opts.url());
    this.socket = socket;
    socket.onopen = () => {
      this.lastMessageAt = Date.now();
      socket.send(JSON.stringify({ type: 'auth', token } satisfies ClientMessage));
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onerror = () => {
      // The close event follows and decides what to do.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.teardown();
      if (ev.code === UNAUTHENTICATED) {
        this.setState('signed-out');
        this.opts.onUnauthenticated?.();
        return;
      }
      this.scheduleReconnect();
    };
  }

  private teardown(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.ready = false;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000, 'client closing');
      } catch {
        // Closing a socket that never opened throws in some browsers; it is gone either way.
      }
    }
    for (const [, entry] of this.channels) this.setChannelState(entry, 'subscribing');
  }

  private scheduleReconnect(): void {
    if (this.channels.size === 0) {
      this.setState('idle');
      return;
    }
    const { baseMs, maxMs } = this.opts.backoff ?? { baseMs: 500, maxMs: 15_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private receive(raw: unknown): void {
    this.lastMessageAt = Date.now();
    if (typeof raw !== 'string') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return;
    }
    const parsed = ServerMessage.safeParse(json);
    if (!parsed.success) return;
    const msg = parsed.data;
    if ('id' in msg) return this.deliver(msg);
    switch (msg.type) {
      case 'ready':
        return this.onReady();
      case 'subscribed': {
        const entry = this.channels.get(msg.channel);
        if (!entry) return;
        const resumed = entry.subscriptions > 0;
        entry.subscriptions += 1;
        this.setChannelState(entry, 'live');
        for (const l of entry.listeners) l.onSubscribed?.({ replayed: msg.replayed, resumed });
        return;
      }
      case 'error': {
        if (msg.seq !== undefined && !msg.channel) {
          const reply: LocationReply = {
            seq: msg.seq,
            ok: false,
            code: msg.code,
            message: msg.message,
          };
          for (const l of this.locationListeners) l(reply);
          return;
        }
        if (!msg.channel) return;
        const entry = this.channels.get(msg.channel);
        if (!entry) return;
        if (msg.code === 'UNAVAILABLE') {
          const channel = msg.channel;
          setTimeout(() => {
            if (this.ready && this.channels.get(channel) === entry)
              this.sendSubscribe(channel, entry);
          }, 2_000);
          return;
        }
        this.setChannelState(entry, msg.code === 'FORBIDDEN' ? 'forbidden' : 'failed', msg.message);
        return;
      }
      case 'ack':
        for (const l of this.locationListeners) l({ seq: msg.seq, ok: true });
        return;
      case 'unsubscribed':
      case 'pong':
        return;
    }
  }

  private onReady(): void {
    this.ready = true;
    this.attempt = 0;
    this.setState('live');
    for (const [channel, entry] of this.channels) this.sendSubscribe(channel, entry);
    const { everyMs, timeoutMs } = this.opts.heartbeat ?? { everyMs: 20_000, timeoutMs: 10_000 };
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastMessageAt > everyMs + timeoutMs) return this.drop();
      this.send({ type: 'ping' });
    }, everyMs);
  }

  private deliver(event: ServerEvent): void {
    const entry = this.channels.get(event.channel);
    if (!entry || !entry.seen.add(event.id)) return;
    for (const l of entry.listeners) l.onEvent(event);
    for (const l of this.eventListeners) l(event);
  }

  private sendSubscribe(channel: string, entry: Channel): void {
    this.setChannelState(entry, 'subscribing');
    const lastEventId = entry.seen.last;
    this.send({ type: 'subscribe', channel, ...(lastEventId ? { lastEventId } : {}) });
  }

  private send(msg: ClientMessage): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(msg));
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }

  private setChannelState(entry: Channel, state: ChannelState, message?: string): void {
    if (entry.state === state && !message) return;
    entry.state = state;
    for (const l of entry.listeners) l.onState?.(state, message);
  }
}
