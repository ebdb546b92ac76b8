import { WsCloseCode } from '@delivery/contracts';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Bus, EventLog } from '../adapters/ports.ts';
import type { AuthService } from '../auth/auth.service.ts';
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
  heartbeatSliceMs: 1_000,
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
    events: deps.events,
    hub,
    clock: deps.clock,
    onLocation: deps.onLocation ?? locationNotConfigured,
    limits,
    log,
  };
  const open = new Map<Connection, Promise<void>>();
  let stopping = false;

  // Slice i is visited every heartbeatMs, at offset i × heartbeatMs / slices; a new socket joins
  // the emptiest slice, so 15,000 sockets over 30 slices make 500 pings and checks a second.
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
  const sliceFor = (): Set<Connection> =>
    slices.reduce((best, slice) => (slice.size < best.size ? slice : best));

  async function shutdown(): Promise<void> {
    stopping = true;
    clearInterval(heartbeat);
    const closed = Promise.all(open.values());
    for (const connection of open.keys()) {
      connection.close(WsCloseCode.serviceRestart, 'service restart');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise((resolve) => (timer = setTimeout(resolve, limits.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
    for (const connection of open.keys()) connection.terminate();
    await hub.close();
    app.websocketServer.close();
  }

  await app.register(websocket, {
    options: { maxPayload: limits.maxFrameBytes },
    preClose: shutdown,
  });

  app.get('/ws', { websocket: true, config: { auth: 'public' } }, (socket, request) => {
    const connection = new Connection(socket, ctx);
    websocketConnections.inc();
    const slice = sliceFor();
    slice.add(connection);
    open.set(
      connection,
      new Promise((resolve) =>
        socket.once('close', () => {
          open.delete(connection);
          slice.delete(connection);
          websocketConnections.dec();
          void connection.dispose().then(resolve);
        }),
      ),
    );
    socket.on('message', (data, isBinary) => connection.receive(data, isBinary));
    socket.on('pong', () => (connection.alive = true));
    if (stopping) {
      connection.close(WsCloseCode.serviceRestart, 'service restart');
      return;
    }
    connection.start(tokenOf(request), request.session ?? null);
  });

  return {
    get connections() {
      return open.size;
    },
    get channels() {
      return hub.channelCount;
    },
  };
}
