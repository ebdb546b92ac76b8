import {
  ClientMessage,
  Role,
  WsCloseCode,
  type LocationMessage,
  type ServerEvent,
  type ServerMessage,
  type WsErrorCode,
} from '@delivery/contracts';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket, { type RawData } from 'ws';
import { z } from 'zod';
import type { EventLog } from '../adapters/ports.ts';
import type { AuthService, Session } from '../auth/auth.service.ts';
import type { StoreOfOwner } from '../catalog/store-of-owner.ts';
import type { Queryable } from '../db/db.ts';
import { isUnavailable } from '../errors.ts';
import { locationIngestDuration, locationUpdates, websocketMessages } from '../metrics/metrics.ts';
import type { Clock } from '../platform/clock.ts';
import { canSubscribe, type Principal } from './access.ts';
import type { ChannelEvent } from './channel-events.ts';
import type { RealtimeHub } from './hub.ts';
import { TokenBucket, WindowCounter } from './rate-limit.ts';
import { sendShortAscii } from './short-frame.ts';
import { ChannelSubscription, readReplay } from './subscription.ts';

/** Stores a driver's position sent over the socket; `reason` says why one was refused. */
export type LocationHandler = (
  driverId: string,
  msg: LocationMessage,
) => Promise<{ accepted: boolean; reason?: string }>;

export interface ConnectionLimits {
  authTimeoutMs: number;
  /** Larger messages get MESSAGE_TOO_LARGE; the socket stays open. */
  maxMessageBytes: number;
  messagesPerSecond: number;
  /** Messages dropped by the rate limit within 10 s before the socket is closed with 4429. */
  maxDroppedPer10s: number;
  maxSubscriptions: number;
  /** Unsent bytes a slow reader may pile up before it is closed with 1013. */
  maxBufferedBytes: number;
  /** Events replayed per subscribe at most (read in pages of 1000). */
  maxReplay: number;
}

export interface ConnectionContext {
  auth: AuthService;
  db: Queryable;
  storeOf: StoreOfOwner;
  events: EventLog;
  hub: RealtimeHub;
  clock: Clock;
  onLocation: LocationHandler;
  limits: ConnectionLimits;
  log: FastifyBaseLogger;
}

type ControlMessage = Exclude<ServerMessage, ServerEvent>;

/**
 * The client message schema with Zod's generated parser in front (`z.compile`), which hands
 * whatever it does not accept to the ordinary one: the same answers and the same errors. In the
 * server, where many schemas share Zod's generic code, the ordinary parse of a location report
 * cost several times the JSON parse (docs/benchmarks.md); the generated one about as much.
 */
export const clientMessages = z.compile(ClientMessage);

/** A message that could not be read, and the error it is answered with. */
interface Unreadable {
  type: 'unreadable';
  code: WsErrorCode;
  message: string;
}

/**
 * A driver's report waiting its turn. A newer report from the same socket that arrives while
 * this one still waits takes its place: only the newest position matters, so a server that
 * has fallen seconds behind does not spend what it has left on positions already superseded.
 */
interface QueuedLocation {
  msg: LocationMessage;
  receivedAt: number;
  /** The reports it took the place of, oldest first: acked, not applied, when it runs. */
  replaced: Array<{ seq: number; receivedAt: number }>;
}

type Task = (() => Promise<void>) | QueuedLocation;

/** Whether `next` may take the place of `queued`: it is not older by its own clock. */
function supersedes(next: LocationMessage, queued: LocationMessage): boolean {
  if (!next.recordedAt || !queued.recordedAt) return true;
  return Date.parse(next.recordedAt) >= Date.parse(queued.recordedAt);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * One client socket of `/ws`: authentication, the message protocol, its channel subscriptions
 * with replay, its rate limit. Messages are handled one after another, so answers come in the
 * order of the requests and a subscribe always completes before a later unsubscribe.
 */
export class Connection {
  /** Who the socket is signed in as; only the user and role are kept, not the whole session. */
  session: Principal | null = null;
  /** Cleared by each heartbeat ping, set again by the pong (or any message). */
  alive = true;
  /** Set by any message, cleared by each heartbeat: a socket that talks needs no ping. */
  heard = false;
  /** The gateway's heartbeat slice this socket belongs to. */
  slice = 0;
  private token: string | null = null;
  private closing = false;
  private rechecking = false;
  private authTimer: NodeJS.Timeout | undefined;
  /**
   * Created by the first subscribe and replaced, not changed in place: most sockets (drivers)
   * hold one channel or none, and an array of one is far smaller than a Map.
   */
  private subscriptions: readonly ChannelSubscription[] | null = null;
  /** A task is running; later ones wait in `backlog`, created only when one has to wait. */
  private busy = false;
  private backlog: Task[] | null = null;
  private readonly bucket: TokenBucket;
  /** Created by the first message the rate limit drops. */
  private dropped: WindowCounter | null = null;
  /** Set once the socket is closed: settles when its channels are released. */
  private disposed: Promise<void> | null = null;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: ConnectionContext,
  ) {
    this.bucket = new TokenBucket(
      ctx.limits.messagesPerSecond,
      ctx.limits.messagesPerSecond,
      ctx.clock,
    );
  }

  /** Signs in with the upgrade request's token, or waits for an `auth` message. */
  start(token: string | null, resolved: Session | null): void {
    if (token) {
      this.enqueue(() => this.authenticate(token, resolved));
      return;
    }
    this.authTimer = setTimeout(() => {
      this.authTimer = undefined;
      if (this.session) return;
      this.sendError('UNAUTHENTICATED', 'No auth message in time');
      this.close(WsCloseCode.unauthenticated, 'authentication timeout');
    }, this.ctx.limits.authTimeoutMs);
  }

  receive(data: RawData, isBinary: boolean): void {
    websocketMessages.inc('in');
    this.alive = true;
    this.heard = true;
    if (this.closing) return;
    if (!this.bucket.take()) {
      this.dropped ??= new WindowCounter(10_000, this.ctx.clock);
      if (this.dropped.hit() > this.ctx.limits.maxDroppedPer10s) {
        this.close(WsCloseCode.rateLimited, 'rate limit exceeded');
      } else {
        this.sendError('RATE_LIMITED', `At most ${this.ctx.limits.messagesPerSecond} per second`);
      }
      return;
    }
    const receivedAt = performance.now();
    const msg = this.read(data, isBinary);
    if (msg.type === 'unreadable') this.enqueue(async () => this.sendError(msg.code, msg.message));
    else if (msg.type === 'location') this.enqueueLocation(msg, receivedAt);
    else this.enqueue(() => this.handle(msg));
  }

  /**
   * The heartbeat, once per interval per socket (the gateway spreads sockets over it): a socket
   * that did not answer the previous ping is cut off, and the session is checked again. A
   * socket that sent a message since the last beat is plainly there and is not pinged: a
   * reporting driver's socket would otherwise cost a ping and a pong every interval for nothing.
   */
  heartbeat(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    if (this.heard) {
      this.heard = false;
    } else {
      this.alive = false;
      this.socket.ping();
    }
    this.recheckSession();
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.stopAuthTimer();
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.closing = true;
    this.socket.terminate();
  }

  /** Called once the socket is closed: releases every channel. */
  dispose(): Promise<void> {
    if (this.disposed) return this.disposed;
    this.closing = true;
    this.stopAuthTimer();
    const subs = this.subscriptions ?? [];
    this.subscriptions = null;
    this.disposed = Promise.allSettled(subs.map((s) => s.membership.leave())).then(() => {});
    return this.disposed;
  }

  /** Settles once the socket has closed and its channels are released. */
  closed(): Promise<void> {
    if (this.disposed) return this.disposed;
    return new Promise((resolve) => this.socket.once('close', () => resolve(this.dispose())));
  }

  private stopAuthTimer(): void {
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
  }

  private subscription(channel: string): ChannelSubscription | undefined {
    return this.subscriptions?.find((sub) => sub.channel === channel);
  }

  /** Takes `sub` out of the socket's channels; false when it was no longer there. */
  private forget(sub: ChannelSubscription): boolean {
    if (!this.subscriptions?.includes(sub)) return false;
    const rest = this.subscriptions.filter((held) => held !== sub);
    this.subscriptions = rest.length > 0 ? rest : null;
    return true;
  }

  /**
   * Runs tasks one at a time, in order. An idle socket keeps no promise or closure between
   * messages: state left on the long-lived connection by each message (a driver's come every
   * few seconds) would be copied into the old generation and collected only by a full GC.
   */
  private enqueue(task: Task): void {
    if (this.busy) {
      (this.backlog ??= []).push(task);
      return;
    }
    this.busy = true;
    void this.drain(task);
  }

  /** Queues a report, in the place of the one still waiting at the end of the queue if any. */
  private enqueueLocation(msg: LocationMessage, receivedAt: number): void {
    const last = this.backlog?.at(-1);
    if (last && typeof last !== 'function' && supersedes(msg, last.msg)) {
      last.replaced.push({ seq: last.msg.seq, receivedAt: last.receivedAt });
      last.msg = msg;
      last.receivedAt = receivedAt;
      return;
    }
    this.enqueue({ msg, receivedAt, replaced: [] });
  }

  private async drain(first: Task): Promise<void> {
    // Starts on the next microtask, like a `then` on the previous task would.
    await Promise.resolve();
    let task: Task | undefined = first;
    while (task) {
      if (!this.closing) {
        try {
          await (typeof task === 'function' ? task() : this.location(task));
        } catch (err) {
          this.failed(err, 'websocket message failed');
        }
      }
      task = this.backlog?.shift();
      if (this.backlog?.length === 0) this.backlog = null;
    }
    this.busy = false;
  }

  /** Parses and validates a message as it is read, so a queued report can be replaced. */
  private read(data: RawData, isBinary: boolean): ClientMessage | Unreadable {
    const bytes = toBuffer(data);
    if (bytes.length > this.ctx.limits.maxMessageBytes) {
      return {
        type: 'unreadable',
        code: 'MESSAGE_TOO_LARGE',
        message: `Messages are limited to ${this.ctx.limits.maxMessageBytes} bytes`,
      };
    }
    if (isBinary)
      return { type: 'unreadable', code: 'BAD_MESSAGE', message: 'Send JSON text messages' };
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return { type: 'unreadable', code: 'BAD_MESSAGE', message: 'Not valid JSON' };
    }
    const parsed = clientMessages.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return {
      type: 'unreadable',
      code: 'BAD_MESSAGE',
      message: `${where}${issue?.message ?? 'invalid message'}`,
    };
  }

  private async handle(msg: Exclude<ClientMessage, LocationMessage>): Promise<void> {
    if (msg.type === 'ping') return this.send({ type: 'pong' });
    if (msg.type === 'auth') return this.authenticate(msg.token, null);
    const session = this.session;
    if (!session) return this.sendError('UNAUTHENTICATED', 'Send {"type":"auth"} first');
    switch (msg.type) {
      case 'subscribe':
        return this.subscribe(session, msg.channel, msg.lastEventId ?? null);
      case 'unsubscribe':
        return this.unsubscribe(msg.channel);
    }
  }

  private async authenticate(token: string, resolved: Session | null): Promise<void> {
    this.stopAuthTimer();
    const session = resolved ?? (await this.ctx.auth.resolve(token));
    if (this.closing) return;
    if (!session) {
      this.sendError('UNAUTHENTICATED', 'Unknown or expired session');
      this.close(WsCloseCode.unauthenticated, 'unauthenticated');
      return;
    }
    // An explicit token wins over the cookie the socket opened with. Another user's channels
    // were granted to the old session, so they are dropped before the switch.
    if (this.session && this.session.userId !== session.userId && this.subscriptions) {
      const held = this.subscriptions;
      this.subscriptions = null;
      await Promise.all(held.map((sub) => sub.membership.leave()));
    }
    // The role as the contract's own string, not the copy parsed from the session store.
    this.session = {
      userId: session.userId,
      role: Role.options.find((role) => role === session.role) ?? session.role,
    };
    this.token = token;
    this.send({ type: 'ready', userId: session.userId, role: session.role });
  }

  /**
   * Logout revokes a session at once: a socket opened with it goes at the next heartbeat. The
   * check runs beside the message queue, never in it, so the socket's next message (a driver's
   * location) does not wait for the session store; a message handled meanwhile is served as
   * before the logout was seen.
   */
  private recheckSession(): void {
    const token = this.token;
    if (!token || this.rechecking) return;
    this.rechecking = true;
    this.ctx.auth
      .resolve(token)
      .then(
        (session) => {
          // A newer `auth` message switched tokens meanwhile; that one was checked on its own.
          if (session || this.closing || this.token !== token) return;
          this.sendError('UNAUTHENTICATED', 'Your session has ended');
          this.close(WsCloseCode.unauthenticated, 'session ended');
        },
        // The session store and the database unreachable: keep the socket, check next time.
        (err: unknown) => this.ctx.log.warn({ err }, 'websocket session re-check failed'),
      )
      .finally(() => (this.rechecking = false));
  }

  /**
   * Joins the channel's live feed first and holds its events back, then replays the log after
   * `lastEventId`, then releases the held events the replay did not already contain. The
   * answer `subscribed {replayed}` precedes the replayed events. Without `lastEventId` the
   * channel simply goes live.
   */
  private async subscribe(
    session: Principal,
    channel: string,
    lastEventId: string | null,
  ): Promise<void> {
    if (this.subscription(channel)) {
      return this.send({ type: 'subscribed', channel, replayed: 0 });
    }
    if ((this.subscriptions?.length ?? 0) >= this.ctx.limits.maxSubscriptions) {
      return this.sendError('TOO_MANY_SUBSCRIPTIONS', 'Unsubscribe from a channel first', {
        channel,
      });
    }
    if (!(await canSubscribe(this.ctx.db, this.ctx.storeOf, session, channel))) {
      return this.sendError('FORBIDDEN', 'You may not listen to this channel', { channel });
    }
    if (this.closing) return;
    const sub = new ChannelSubscription(this.ctx.hub, channel, this);
    this.subscriptions = this.subscriptions ? [...this.subscriptions, sub] : [sub];
    let replay: ChannelEvent[];
    try {
      await sub.membership.ready;
      replay = lastEventId
        ? await readReplay(this.ctx.events, channel, lastEventId, this.ctx.limits.maxReplay)
        : [];
    } catch (err) {
      this.ctx.log.warn({ err, channel }, 'websocket subscribe failed');
      if (this.forget(sub)) await sub.membership.leave();
      return this.sendError('UNAVAILABLE', 'Could not subscribe; try again', { channel });
    }
    if (!this.subscriptions?.includes(sub)) return;
    this.send({ type: 'subscribed', channel, replayed: replay.length });
    sub.goLive(replay, lastEventId);
  }

  private async unsubscribe(channel: string): Promise<void> {
    const sub = this.subscription(channel);
    if (sub && this.forget(sub)) await sub.membership.leave();
    this.send({ type: 'unsubscribed', channel });
  }

  private async location({ msg, receivedAt, replaced }: QueuedLocation): Promise<void> {
    const session = this.session;
    if (session?.role !== 'driver') {
      // Each report gets its own refusal, as it would have had nothing replaced it.
      for (const { seq } of [...replaced, msg]) {
        if (session) this.sendError('FORBIDDEN', 'Only drivers send locations', { seq });
        else this.sendError('UNAUTHENTICATED', 'Send {"type":"auth"} first');
      }
      return;
    }
    // Superseded while they waited: answered in order, like a late report that is not applied.
    for (const old of replaced) {
      this.ack(old.seq);
      locationUpdates.inc('superseded');
      locationIngestDuration.observe((performance.now() - old.receivedAt) / 1000);
    }
    let result: Awaited<ReturnType<LocationHandler>>;
    try {
      result = await this.ctx.onLocation(session.userId, msg);
    } catch (err) {
      return this.failed(err, 'websocket location update failed', msg.seq);
    }
    if (result.accepted) this.ack(msg.seq);
    else
      this.sendError('LOCATION_REJECTED', result.reason ?? 'Location rejected', { seq: msg.seq });
    locationIngestDuration.observe((performance.now() - receivedAt) / 1000);
  }

  /**
   * A message that threw: a dependency that is down or saturated (no pool connection in time)
   * is `UNAVAILABLE`, which the client may retry, as HTTP answers 503; anything else is a bug,
   * `INTERNAL`, logged as an error.
   */
  private failed(err: unknown, what: string, seq?: number): void {
    const extra = seq === undefined ? undefined : { seq };
    if (isUnavailable(err)) {
      this.ctx.log.warn({ err }, `${what}: dependency unavailable`);
      this.sendError('UNAVAILABLE', 'A dependency is unavailable; try again shortly', extra);
    } else {
      this.ctx.log.error({ err }, what);
      this.sendError('INTERNAL', 'Something went wrong', extra);
    }
  }

  /** The one message every accepted update answers; `seq` is a validated integer. */
  private ack(seq: number): void {
    if (!this.sendable()) return;
    sendShortAscii(this.socket, `{"type":"ack","seq":${seq}}`);
    websocketMessages.inc('out');
  }

  private sendError(
    code: WsErrorCode,
    message: string,
    extra: { channel?: string; seq?: number } = {},
  ): void {
    this.send({ type: 'error', code, message, ...extra });
  }

  private send(msg: ControlMessage): void {
    this.sendRaw(JSON.stringify(msg));
  }

  /** Sends a frame as is (events arrive as ready JSON); nothing unless the socket is open. */
  sendRaw(text: string): void {
    if (!this.sendable()) return;
    this.socket.send(text);
    websocketMessages.inc('out');
  }

  /** Whether the socket is open, and not so far behind that it is closed as too slow. */
  private sendable(): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (this.socket.bufferedAmount > this.ctx.limits.maxBufferedBytes) {
      this.close(WsCloseCode.slowConsumer, 'too slow; reconnect with lastEventId');
      return false;
    }
    return true;
  }
}
