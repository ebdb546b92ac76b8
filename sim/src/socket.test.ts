import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialLean } from './lean-ws.ts';
import { dialWs, SimSocket, type Dial } from './socket.ts';
import { Counters } from './stats.ts';

/** A stand-in server on a real socket: answers `auth` with `ready`, then sends `frames`. */
async function serverSending(frames: Array<string | Buffer>) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws: WebSocket) => {
    ws.once('message', () => {
      ws.send(JSON.stringify({ type: 'ready', userId: 'u1', role: 'driver' }));
      for (const frame of frames) ws.send(frame);
    });
  });
  const { port } = wss.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/ws`, close: () => new Promise((r) => wss.close(r)) };
}

let cleanup: Array<() => unknown> = [];

/** A SimSocket signed in to a server that sends `frames`; the acks it reads, in order. */
async function socketHearing(frames: Array<string | Buffer>, dial: Dial) {
  const server = await serverSending(frames);
  cleanup.push(server.close);
  const counters = new Counters();
  const acks: number[] = [];
  const socket = new SimSocket(
    server.url,
    'token',
    counters,
    { onAck: (seq) => acks.push(seq) },
    { dial },
  );
  socket.start();
  cleanup.push(() => socket.stop());
  return { socket, counters, acks };
}
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe.each([
  ['ws', dialWs],
  ['the lean client', dialLean],
])('SimSocket over %s', (_name, dial) => {
  it('reads acks as the server writes them, and any other spelling the long way', async () => {
    const { counters, acks } = await socketHearing(
      [
        '{"type":"ack","seq":1}',
        '{ "type": "ack", "seq": 2 }',
        '{"seq":3,"type":"ack"}',
        '{"type":"ack","seq":4.5}',
        '{"type":"ack","seq":40}',
      ],
      dial,
    );
    await vi.waitFor(() => expect(acks).toEqual([1, 2, 3, 4.5, 40]));
    expect(counters.get('ws.unexpected')).toBe(0);
  });

  it('counts what it does not understand and stays connected', async () => {
    const { socket, counters, acks } = await socketHearing(
      [
        'not json',
        '{"type":"ack","seq":"x"}',
        Buffer.from([0xff, 0xfe]),
        '[1,2]',
        '{"type":"surprise"}',
        '{"type":"ack","seq":7}',
      ],
      dial,
    );
    await vi.waitFor(() => expect(acks).toEqual([7]));
    // Not JSON, a binary frame, an array, an unknown type (an ack without a number is dropped).
    expect(counters.get('ws.unexpected')).toBe(4);
    expect(socket.isReady).toBe(true);
  });
});

describe('signing in against a saturated server', () => {
  it('asks again after UNAVAILABLE, on the same socket, until it is ready', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanup.push(() => new Promise((r) => wss.close(r)));
    let connections = 0;
    const auths: unknown[] = [];
    wss.on('connection', (ws: WebSocket) => {
      connections += 1;
      ws.on('message', (data: Buffer) => {
        auths.push(JSON.parse(data.toString()));
        // The first two sign-ins meet a pool with no connection to spare.
        ws.send(
          JSON.stringify(
            auths.length <= 2
              ? { type: 'error', code: 'UNAVAILABLE', message: 'try again shortly' }
              : { type: 'ready', userId: 'u1', role: 'customer' },
          ),
        );
      });
    });
    const { port } = wss.address() as AddressInfo;
    const counters = new Counters();
    // random() = 0: the shortest wait, 1 s, between attempts.
    const socket = new SimSocket(
      `ws://127.0.0.1:${port}/ws`,
      'tok',
      counters,
      {},
      {
        random: () => 0,
      },
    );
    socket.start();
    cleanup.push(() => socket.stop());
    await vi.waitFor(() => expect(socket.isReady).toBe(true), { timeout: 5_000 });
    expect(auths).toEqual(Array(3).fill({ type: 'auth', token: 'tok' }));
    expect(connections).toBe(1);
    expect(counters.get('ws.error.UNAVAILABLE')).toBe(2);
  });
});
