import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WsCloseCode } from '@delivery/contracts';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import type { Bus, EventLog } from '../adapters/ports.ts';
import type { AuthService } from '../auth/auth.service.ts';
import { readStoreOfOwner, type StoreOfOwner } from '../catalog/store-of-owner.ts';
import type { Queryable } from '../db/db.ts';
import { SESSION_COOKIE } from '../http/auth-hook.ts';
import { websocketConnections } from '../metrics/metrics.ts';
import type { Clock } from '../platform/clock.ts';
import {
  Connection,
  type ConnectionContext,
  type ConnectionLimits,
  type LocationHandler,
} from './connection.ts';
import { RealtimeHub } from './hub.ts';

export type { LocationHandler } from './connection.ts';

export interface GatewayLimits extends ConnectionLimits {
  /** Each socket is pinged, and its session checked again, once per this interval. */
  heartbeatMs: number;
  /**
   * The interval is cut in slices of about this length; each socket belongs to one slice and
   * is visited when its slice comes up, so pings and session checks never come as one burst.
   */
  heartbeatSliceMs: number;
  /** Frames beyond this are refused by `ws` itself, which closes the socket with 1009. */
  maxFrameBytes: number;
  /** How long shutdown waits for clients to acknowledge the 1012 close before cutting them. */
  shutdownGraceMs: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  authTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  // 300 slices: at 15,000 sockets, 50 look-ups each 100 ms rather than 500 each second, which
  // with the replies' promises came as one burst of several milliseconds.
  heartbeatSliceMs: 100,
  maxMessageBytes: 16_384,
  maxFrameBytes: 65_536,
  messagesPerSecond: 20,
  maxDroppedPer10s: 200,
  maxSubscriptions: 100,
  maxBufferedBytes: 4_194_304,
  maxReplay: 10_000,
  shutdownGraceMs: 2_000,
};

export interface GatewayDeps {
  auth: AuthService;
  db: Queryable;
  /** Which store a merchant user runs; read from `db` on every subscribe when not given. */
  storeOf?: StoreOfOwner;
  bus: Bus;
  events: EventLog;
  clock: Clock;
  /** Where drivers' `location` messages go; until wired, every update is refused. */
  onLocation?: LocationHandler;
  limits?: Partial<GatewayLimits>;
}

export interface Gateway {
  readonly connections: number;
  /** Channels this process holds a bus subscription for. */
  readonly channels: number;
}

export const locationNotConfigured: LocationHandler = async () => ({
  accepted: false,
  reason: 'location service not configured',
});

/** Same precedence as the HTTP auth hook: a bearer header, else the session cookie. */
function tokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || null;
  return request.cookies?.[SESSION_COOKIE] ?? null;
}

/** Each accepted socket carries its Connection, so one set of listeners serves every socket. */
const CONNECTION = Symbol('connection');
type GatewaySocket = WebSocket & { [CONNECTION]?: Connection };

function onMessage(this: GatewaySocket, data: RawData, isBinary: boolean): void {
  this[CONNECTION]?.receive(data, isBinary);
}

function onPong(this: GatewaySocket): void {
  const connection = this[CONNECTION];
  if (connection) connection.alive = true;
}

/**
 * Lets go of the HTTP side of the upgrade. `@fastify/websocket` answers the upgrade through a
 * ServerResponse that it assigns to the TCP socket and never ends, and listens for the
 * socket's errors with a closure over Fastify's request and reply: both would live as long as
 * the WebSocket, and with them the request's headers and child logger, the reply's headers
 * and the raw request (about 5 KiB a socket). The caller installs its own error listener.
 */
function releaseUpgrade(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as (Socket & { _httpMessage?: ServerResponse | null }) | null;
  const response = tcp?._httpMessage;
  if (tcp && response && typeof response.detachSocket === 'function') {
    response.detachSocket(tcp);
  }
}

/**
 * The WebSocket endpoint `/ws` (protocol in docs/websocket.md). All sockets of the process
 * share one hub, so each channel costs one bus subscription whatever the number of listeners.
 */
export async function registerWebSocketGateway(
  app: FastifyInstance,
  deps: GatewayDeps,
): Promise<Gateway> {
  const limits = { ...DEFAULT_GATEWAY_LIMITS, ...deps.limits };
  const log = app.log.child({ component: 'websocket' });
  const hub = new RealtimeHub(deps.bus, (err, channel) =>
    log.error({ err, channel }, 'realtime event not delivered'),
  );
  const ctx: ConnectionContext = {
    auth: deps.auth,
    db: deps.db,
    storeOf: deps.storeOf ?? ((ownerId) => readStoreOfOwner(deps.db, ownerId)),
    events: deps.events,
    hub,
    clock: deps.clock,
    onLocation: deps.onLocation ?? locationNotConfigured,
    limits,
    log,
  };
  let stopping = false;

  // Slice i is visited every heartbeatMs, at offset i × heartbeatMs / slices; a new socket joins
  // the emptiest slice, so 15,000 sockets over 300 slices make 50 pings and checks every 100 ms.
  // Together the slices hold every open connection.
  const slices: Array<Set<Connection>> = Array.from(
    { length: Math.max(1, Math.round(limits.heartbeatMs / limits.heartbeatSliceMs)) },
    () => new Set(),
  );
  let turn = 0;
  const heartbeat = setInterval(() => {
    const slice = slices[turn]!;
    turn = (turn + 1) % slices.length;
    for (const connection of slice) connection.heartbeat();
  }, limits.heartbeatMs / slices.length);
  heartbeat.unref();
  const emptiestSlice = (): number =>
    slices.reduce((best, slice, i) => (slice.size < slices[best]!.size ? i : best), 0);
  const openConnections = (): Connection[] => slices.flatMap((slice) => [...slice]);

  function onClose(this: GatewaySocket): void {
    const connection = this[CONNECTION];
    if (!connection) return;
    slices[connection.slice]!.delete(connection);
    websocketConnections.dec();
    void connection.dispose();
  }

  function onError(this: GatewaySocket, err: Error): void {
    // As @fastify/websocket's default: `ws` has already closed the socket (1009, 1007...).
    log.error({ err }, 'websocket error');
    this.terminate();
  }

  async function shutdown(): Promise<void> {
    stopping = true;
    clearInterval(heartbeat);
    const open = openConnections();
    const closed = Promise.all(open.map((connection) => connection.closed()));
    for (const connection of open) {
      connection.close(WsCloseCode.serviceRestart, 'service restart');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise((resolve) => (timer = setTimeout(resolve, limits.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
    for (const connection of openConnections()) connection.terminate();
    await hub.close();
    app.websocketServer.close();
  }

  await app.register(websocket, {
    // The gateway keeps its own list of sockets (the heartbeat slices).
    options: { maxPayload: limits.maxFrameBytes, clientTracking: false },
    preClose: shutdown,
  });

  app.get('/ws', { websocket: true, config: { auth: 'public' } }, (ws, request) => {
    const socket: GatewaySocket = ws;
    releaseUpgrade(socket, request);
    socket.on('error', onError);
    const connection = new Connection(socket, ctx);
    socket[CONNECTION] = connection;
    websocketConnections.inc();
    connection.slice = emptiestSlice();
    slices[connection.slice]!.add(connection);
    socket.on('close', onClose);
    socket.on('message', onMessage);
    socket.on('pong', onPong);
    if (stopping) {
      connection.close(WsCloseCode.serviceRestart, 'service restart');
      return;
    }
    connection.start(tokenOf(request), request.session ?? null);
  });

  return {
    get connections() {
      return slices.reduce((n, slice) => n + slice.size, 0);
    },
    get channels() {
      return hub.channelCount;
    },
  };
}
