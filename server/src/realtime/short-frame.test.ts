import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { sendShortAscii } from './short-frame.ts';

let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real server and client over loopback; the server side of the pair and what the client reads. */
async function pair(options: { deflate?: boolean } = {}) {
  const deflate = options.deflate ? { threshold: 0 } : false;
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate });
  const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
  await new Promise((resolve) => server!.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: deflate });
  const received: string[] = [];
  client.on('message', (data: Buffer) => received.push(data.toString('utf8')));
  await new Promise((resolve) => client.once('open', resolve));
  const received$ = (n: number) =>
    new Promise<string[]>((resolve) => {
      const check = () => (received.length >= n ? resolve(received) : setTimeout(check, 5));
      check();
    });
  return { socket: await accepted, client, received: received$ };
}

describe('sendShortAscii', () => {
  it('writes short messages as one frame, in order with what ws sends', async () => {
    const { socket, received } = await pair();
    const long = `{"type":"event","data":"${'x'.repeat(200)}"}`;
    socket.send('{"type":"first"}');
    expect(sendShortAscii(socket, '{"type":"ack","seq":1}')).toBe(true);
    socket.send(long);
    expect(sendShortAscii(socket, '{"type":"ack","seq":-9007199254740991}')).toBe(true);
    expect(await received(4)).toEqual([
      '{"type":"first"}',
      '{"type":"ack","seq":1}',
      long,
      '{"type":"ack","seq":-9007199254740991}',
    ]);
  });

  it('hands a message over 125 characters to ws', async () => {
    const { socket, received } = await pair();
    const text = 'a'.repeat(126);
    expect(sendShortAscii(socket, text)).toBe(false);
    expect(await received(1)).toEqual([text]);
  });

  it('waits behind a message ws is still compressing, through ws', async () => {
    const { socket, received } = await pair({ deflate: true });
    const big = 'y'.repeat(100_000);
    socket.send(big);
    expect(sendShortAscii(socket, '{"type":"ack","seq":2}')).toBe(false);
    expect(await received(2)).toEqual([big, '{"type":"ack","seq":2}']);
  });
});
