import { ClientMessage, type Role } from '@delivery/contracts';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiClient } from '../http.ts';
import { startTestPlatform } from '../platform.ts';
import { connectWs, type WsClient } from '../ws-client.ts';
import { fromSchema, hostileString, hostileValue, type JsonSchema } from './arbitraries.ts';
import { buildWorld } from './fixtures.ts';

/**
 * Fuzzing of the `/ws` protocol: sequences of messages generated from the `ClientMessage` zod
 * schema (valid, with hostile fields, or any JSON) and garbage frames (binary, invalid UTF-8,
 * oversized). After each sequence the socket must still answer a ping, or have been closed
 * with a documented code; the server never answers INTERNAL and never breaks the message
 * contract. Reproduce with FUZZ_SEED / FUZZ_RUNS like the HTTP fuzzer.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_601) + 1_000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** 1007 invalid UTF-8 in a text frame, 1009 frame too large (both closed by `ws` itself). */
const DOCUMENTED_CLOSE_CODES = [1007, 1009, 4401, 4429];

const tp = await startTestPlatform({ DISPATCH_ENABLED: 'false' });
const api = apiClient(tp.baseUrl);
const world = await buildWorld(tp, api);
afterAll(() => tp.stop());

const channels = [
  'fleet',
  `merchant:${world.store.id}`,
  `merchant:${world.otherStore.id}`,
  `driver:${world.users.driver.id}`,
  ...world.ids.map((id) => `order:${id}`),
];

type Frame =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'badUtf8' }
  | { kind: 'huge'; bytes: number };

const messageSchema = z.toJSONSchema(ClientMessage, { io: 'input' }) as JsonSchema;
const pool = { ids: world.ids };

const json = (value: unknown): Frame => ({ kind: 'json', value });
const subscriptions = fc
  .constantFrom(...channels)
  .chain((channel) =>
    fc.constantFrom<unknown>(
      { type: 'subscribe', channel },
      { type: 'subscribe', channel, lastEventId: '0-0' },
      { type: 'unsubscribe', channel },
    ),
  );
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: fromSchema(messageSchema, pool).map(json) },
  { weight: 2, arbitrary: subscriptions.map(json) },
  { weight: 4, arbitrary: fromSchema(messageSchema, pool, 0.25).map(json) },
  { weight: 2, arbitrary: hostileValue.map(json) },
  { weight: 2, arbitrary: hostileString.map((text): Frame => ({ kind: 'text', text })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Frame => ({ kind: 'binary', bytes })),
  },
  { weight: 1, arbitrary: fc.constant<Frame>({ kind: 'badUtf8' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(16_385, 70_000).map((bytes): Frame => ({ kind: 'huge', bytes })),
  },
);

const session = fc.record({
  role: fc.option(fc.constantFrom<Role>('customer', 'driver', 'merchant', 'admin'), { freq: 5 }),
  frames: fc.array(frame, { minLength: 1, maxLength: 8 }),
});

function sendFrame(client: WsClient, f: Frame): void {
  const { socket } = client;
  if (socket.readyState !== socket.OPEN) return;
  switch (f.kind) {
    case 'json':
      socket.send(JSON.stringify(f.value) ?? 'undefined');
      return;
    case 'text':
      socket.send(f.text);
      return;
    case 'binary':
      socket.send(f.bytes, { binary: true });
      return;
    case 'badUtf8':
      socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      return;
    case 'huge':
      socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(f.bytes) }));
      return;
  }
}

describe('WebSocket fuzzing from the message schema', () => {
  it('answers every sequence with errors, keeps the socket usable or closes it with a documented code', async () => {
    await fc.assert(
      fc.asyncProperty(session, async ({ role, frames }) => {
        const client = await connectWs(tp.baseUrl, {
          ...(role ? { cookie: world.users[role].token } : {}),
        });
        try {
          for (const f of frames) sendFrame(client, f);
          if (client.socket.readyState === client.socket.OPEN) {
            client.send({ type: 'ping' });
          }
          const closeCode = client.closed.then((c) => c.code);
          const outcome: 'pong' | 'silent' | number = await Promise.race([
            client.next((m) => m.type === 'pong', 3_000).then(() => 'pong' as const),
            closeCode,
          ]).catch(async () => (await Promise.race([closeCode, sleep(500)])) ?? 'silent');
          const got = JSON.stringify(client.received).slice(0, 800);
          if (outcome !== 'pong' && !DOCUMENTED_CLOSE_CODES.includes(Number(outcome))) {
            throw new Error(`neither pong nor a documented close: ${String(outcome)}; got ${got}`);
          }
          if (role === null && outcome === 'pong') {
            // Unauthenticated: only pings and auth errors, never data.
            expect(client.received.filter((m) => typeof m?.id === 'string')).toEqual([]);
          }
          const internal = client.received.filter((m) => m?.code === 'INTERNAL');
          if (internal.length) throw new Error(`INTERNAL error answered; got ${got}`);
          if (client.violations.length) {
            throw new Error(`broke the message contract: ${JSON.stringify(client.violations)}`);
          }
        } finally {
          client.socket.terminate();
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect((await api('GET', '/health')).status).toBe(200);
  });
});

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));
