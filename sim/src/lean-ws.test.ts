import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { registerUser } from '../../server/test/factories.ts';
import { apiClient } from '../../server/test/http.ts';
import { startTestPlatform, type TestPlatform } from '../../server/test/platform.ts';
import { dialLean, LeanWebSocket } from './lean-ws.ts';
import { SimSocket, type WireHandlers } from './socket.ts';
import { Counters } from './stats.ts';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** What a client heard, in order. */
function recorder() {
  const heard: string[] = [];
  const handlers: WireHandlers = {
    open: () => heard.push('open'),
    text: (t) => heard.push(`text:${t}`),
    binary: () => heard.push('binary'),
    error: () => heard.push('error'),
    close: (code) => heard.push(`close:${code}`),
  };
  return { heard, handlers };
}

/** A `ws` server on a real socket; its connections, as they come. */
async function wsServer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const connections: WebSocket[] = [];
  wss.on('connection', (ws) => connections.push(ws));
  cleanup.push(() => new Promise((r) => wss.close(r)));
  cleanup.push(() => connections.forEach((c) => c.terminate()));
  const { port } = wss.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/ws`, connections };
}

/** A plain TCP server that answers each connection with `respond`. */
async function rawServer(
  respond: (socket: net.Socket, request: string) => void,
  { allowHalfOpen = false } = {},
) {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen }, (socket) => {
    sockets.push(socket);
    let request = '';
    const onData = (d: Buffer) => {
      request += d.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      respond(socket, request);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((r) => server.close(r)));
  cleanup.push(() => sockets.forEach((s) => s.destroy()));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
}

function acceptFor(request: string): string {
  const key = /sec-websocket-key: *(\S+)/i.exec(request)![1];
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function open(url: string, handlers: WireHandlers, handshakeTimeoutMs = 5_000) {
  const client = new LeanWebSocket(url, { handshakeTimeoutMs }, handlers);
  cleanup.push(() => client.terminate());
  return client;
}

describe('LeanWebSocket', () => {
  it('sends and receives text of every length encoding, both ways, through a ws server', async () => {
    const server = await wsServer();
    const { heard, handlers } = recorder();
    const client = open(server.url, handlers);
    await vi.waitFor(() => expect(heard).toEqual(['open']));
    const received: string[] = [];
    server.connections[0]!.on('message', (data: Buffer) => received.push(data.toString('utf8')));
    // 7-bit, 16-bit and 64-bit lengths (125, 126, 65,536 bytes and up), and multi-byte UTF-8.
    const messages = ['hi', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(70_000), 'Grüße → 東京'];
    for (const m of messages) client.send(m);
    await vi.waitFor(() => expect(received).toEqual(messages));
    for (const m of messages) server.connections[0]!.send(m);
    await vi.waitFor(() => expect(heard.slice(1)).toEqual(messages.map((m) => `text:${m}`)));
    expect(client.isOpen).toBe(true);
  });

  it('answers pings, joins fragments and reports binary messages', async () => {
    const server = await wsServer();
    const { heard, handlers } = recorder();
    open(server.url, handlers);
    await vi.waitFor(() => expect(server.connections).toHaveLength(1));
    const ws = server.connections[0]!;
    const pong = once(ws, 'pong');
    ws.ping('are you there');
    expect(String((await pong)[0])).toBe('are you there');
    ws.send('first ', { fin: false });
    ws.ping(); // a control frame may come between the fragments of a message
    ws.send('second ', { fin: false });
    ws.send('third', { fin: true });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await vi.waitFor(() => expect(heard).toEqual(['open', 'text:first second third', 'binary']));
  });

  it('takes part in closing handshakes either side starts', async () => {
    const server = await wsServer();
    const a = recorder();
    open(server.url, a.handlers);
    await vi.waitFor(() => expect(server.connections).toHaveLength(1));
    const closedByServer = once(server.connections[0]!, 'close');
    server.connections[0]!.close(4401, 'session expired');
    expect((await closedByServer)[0]).toBe(4401);
    await vi.waitFor(() => expect(a.heard).toEqual(['open', 'close:4401']));

    const b = recorder();
    const client = open(server.url, b.handlers);
    await vi.waitFor(() => expect(server.connections).toHaveLength(2));
    const closedByClient = once(server.connections[1]!, 'close');
    client.close(1000, 'simulation over');
    const [code, reason] = await closedByClient;
    expect([code, String(reason)]).toEqual([1000, 'simulation over']);
    await vi.waitFor(() => expect(b.heard).toEqual(['open', 'close:1000']));
    expect(client.isClosed).toBe(true);
  });

  it('reads frames however the bytes are split over reads', async () => {
    const frames = Buffer.concat([
      Buffer.from([0x81, 5]),
      Buffer.from('hello'),
      Buffer.from([0x81, 126, 0, 200]),
      Buffer.alloc(200, 0x61),
      Buffer.from([0x89, 0]), // ping
      Buffer.from([0x81, 3]),
      Buffer.from('end'),
    ]);
    const url = await rawServer((socket, request) => {
      socket.setNoDelay(true);
      const bytes = Buffer.concat([
        Buffer.from(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
        ),
        frames,
      ]);
      // One byte per write, each in its own turn of the loop, so most arrive as reads of one.
      let i = 0;
      const drip = () => {
        if (i < bytes.length) socket.write(bytes.subarray(i, ++i), () => setImmediate(drip));
      };
      drip();
    });
    const { heard, handlers } = recorder();
    open(url, handlers);
    await vi.waitFor(() =>
      expect(heard).toEqual(['open', 'text:hello', `text:${'a'.repeat(200)}`, 'text:end']),
    );
  }, 20_000);

  it('refuses a server that does not upgrade, upgrades wrongly, or stays silent', async () => {
    const plain = http.createServer((_req, res) => res.writeHead(401).end('no'));
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    cleanup.push(() => new Promise((r) => plain.close(r)));
    const refused = recorder();
    open(`ws://127.0.0.1:${(plain.address() as AddressInfo).port}/ws`, refused.handlers);

    const wrongKey = await rawServer((socket) =>
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n',
      ),
    );
    const wrong = recorder();
    open(wrongKey, wrong.handlers);

    const silent = recorder();
    open(await rawServer(() => undefined), silent.handlers, 300);

    for (const r of [refused, wrong, silent])
      await vi.waitFor(() => expect(r.heard).toEqual(['error', 'close:1006']));
  });

  it('leaves wss:// to the ws library', async () => {
    expect(() => open('wss://127.0.0.1:1/ws', recorder().handlers)).toThrow(/only ws:\/\//);
    // Port 1 refuses the connection: the ws client reports it as an error and a close.
    const { heard, handlers } = recorder();
    const wire = dialLean('wss://127.0.0.1:1/ws', { handshakeTimeoutMs: 5_000 }, handlers);
    cleanup.push(() => wire.terminate());
    await vi.waitFor(() => expect(heard).toEqual(['error', 'close:1006']));
  });

  it('fails the connection on a masked server frame', async () => {
    const url = await rawServer((socket, request) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
      );
      socket.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69 ^ 1, 0x69 ^ 2]));
      socket.on('end', () => socket.end());
    });
    const { heard, handlers } = recorder();
    open(url, handlers);
    await vi.waitFor(() => expect(heard).toEqual(['open', 'error', 'close:1002']));
  });

  it('says why in a close frame, and gives up on a server that never closes', async () => {
    let after = Buffer.alloc(0);
    const url = await rawServer(
      (socket, request) => {
        socket.on('data', (d: Buffer) => (after = Buffer.concat([after, d])));
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
        );
        socket.write(Buffer.from([0x91, 0])); // RSV1 set: no extension was agreed
      },
      { allowHalfOpen: true }, // and it neither answers the close frame nor closes
    );
    const { heard, handlers } = recorder();
    open(url, handlers);
    await vi.waitFor(() => expect(heard).toEqual(['open', 'error']));
    await vi.waitFor(() => expect(after.length).toBe(8));
    // A masked close frame (FIN, opcode 8, 2 bytes) whose payload is the code 1002.
    expect([after[0], after[1]]).toEqual([0x88, 0x82]);
    const code = ((after[6]! ^ after[2]!) << 8) | (after[7]! ^ after[3]!);
    expect(code).toBe(1002);
    await vi.waitFor(() => expect(heard).toEqual(['open', 'error', 'close:1002']), {
      timeout: 4_000,
    });
  });
});

describe('LeanWebSocket against the platform', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(() => platform?.stop());

  it('signs a driver in and has its position reports acknowledged and stored', async () => {
    const api = apiClient(platform.baseUrl);
    const driver = await registerUser(api, 'driver');
    await api('POST', '/api/v1/driver/go-online', {
      token: driver.token,
      body: { lat: 49.41, lng: 8.69 },
    });
    const counters = new Counters();
    const acks: number[] = [];
    const socket = new SimSocket(
      `${platform.baseUrl.replace('http', 'ws')}/ws`,
      driver.token,
      counters,
      { onAck: (seq) => acks.push(seq) },
      { dial: dialLean },
    );
    cleanup.push(() => socket.stop());
    socket.start();
    await vi.waitFor(() => expect(socket.isReady).toBe(true));
    for (const [seq, lat] of [
      [1, 49.4101],
      [2, 49.4102],
    ] as const) {
      socket.send({
        type: 'location',
        lat,
        lng: 8.6901,
        recordedAt: new Date().toISOString(),
        seq,
      });
    }
    await vi.waitFor(() => expect(acks).toEqual([1, 2]));
    expect(await platform.infra.kv.geo.get(driver.id)).toMatchObject({
      lat: 49.4102,
      lng: 8.6901,
    });
    expect(counters.toJSON()).toEqual({});
  });
});
