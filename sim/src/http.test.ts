import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError } from './http.ts';
import { Counters } from './stats.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** A stand-in server on a real socket; counts the TCP connections it accepted. */
async function serve(handler: Handler) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, res, body));
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanup.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

function client(url: string, opts: ConstructorParameters<typeof Api>[2] = {}) {
  const counters = new Counters();
  const api = new Api(url, counters, opts);
  cleanup.push(() => api.close());
  return { api, counters };
}

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('Api', () => {
  it('sends the method, the JSON body and the bearer token, under the base URL’s path', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const server = await serve((req, res, body) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      json(res, 201, { ok: true });
    });
    const { api } = client(`${server.url}/platform/`);
    const answer = await api.post('/api/v1/orders', { token: 't1', body: { items: [1] } });
    expect(answer).toEqual({ ok: true });
    expect(seen).toEqual([
      { method: 'POST', url: '/platform/api/v1/orders', auth: 'Bearer t1', body: '{"items":[1]}' },
    ]);
  });

  it('throws the platform’s error code and counts the status', async () => {
    const server = await serve((_req, res) =>
      json(res, 409, { error: { code: 'INVALID_TRANSITION', message: 'Order is delivered' } }),
    );
    const { api, counters } = client(server.url);
    const err = await api.post('/api/v1/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
    expect(counters.get('http.409')).toBe(1);
  });

  it('holds every request to a server that answered 503 for its Retry-After, then retries', async () => {
    const arrivals: number[] = [];
    let refused = false;
    const server = await serve((_req, res) => {
      arrivals.push(performance.now());
      if (!refused) {
        refused = true;
        json(res, 503, { error: { code: 'DEPENDENCY_UNAVAILABLE' } }, { 'retry-after': '1' });
      } else json(res, 200, {});
    });
    const { api, counters } = client(server.url);
    const started = performance.now();
    await api.get('/first'); // answered 503, held, retried
    await api.get('/second'); // issued after the 503: held too, then sent
    expect(counters.get('http.503')).toBe(1);
    expect(arrivals).toHaveLength(3);
    expect(arrivals[1]! - started).toBeGreaterThanOrEqual(950);
  });

  it('with `hold: request`, holds only the refused request for its Retry-After', async () => {
    const arrivals = new Map<string, number[]>();
    const server = await serve((req, res) => {
      const seen = arrivals.get(req.url!) ?? [];
      arrivals.set(req.url!, [...seen, performance.now()]);
      if (req.url === '/refused' && seen.length === 0) {
        json(res, 503, { error: { code: 'DEPENDENCY_UNAVAILABLE' } }, { 'retry-after': '1' });
      } else json(res, 200, {});
    });
    const { api, counters } = client(server.url, { hold: 'request' });
    const started = performance.now();
    const refused = api.get('/refused');
    await vi.waitFor(() => expect(counters.get('http.503')).toBe(1));
    await api.get('/other'); // another person's request, sent during the hold: not held
    expect(arrivals.get('/other')![0]! - started).toBeLessThan(900);
    await refused;
    expect(arrivals.get('/refused')).toHaveLength(2);
    expect(arrivals.get('/refused')![1]! - started).toBeGreaterThanOrEqual(950);
  });

  it('lets half as many out after a refusal and grows back by one per answer', async () => {
    const held: Array<() => void> = [];
    let refused = false;
    const server = await serve((_req, res) => {
      if (refused) return void held.push(() => json(res, 200, {}));
      refused = true;
      json(res, 503, { error: { code: 'DEPENDENCY_UNAVAILABLE' } }, { 'retry-after': '1' });
    });
    const { api } = client(server.url, { connections: 16 });
    const first = api.get('/first'); // refused: the limit halves and everything is held 1 s
    await vi.waitFor(() => expect(api.concurrency).toBe(8));
    const rest = Array.from({ length: 39 }, (_, i) => api.get(`/r/${i}`));
    // After the pause, 40 want out: 8 go, the others wait their turn here.
    await vi.waitFor(() => expect(held).toHaveLength(8), { timeout: 3_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(held).toHaveLength(8);
    expect(api.waiting()).toBe(32);
    // Each answer raises the limit by one: two more go out for every one answered.
    held.shift()!();
    await vi.waitFor(() => expect(held).toHaveLength(9));
    expect(api.concurrency).toBe(9);
    for (let answered = 1; answered < 40; answered++) {
      await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
      held.shift()!();
    }
    await Promise.all([first, ...rest]);
    expect(api.concurrency).toBe(16);
    expect(api.waiting()).toBe(0);
  });

  it('opens no more connections than it is allowed, however many requests wait', async () => {
    const server = await serve((_req, res) => setTimeout(() => json(res, 200, {}), 20));
    const { api } = client(server.url, { connections: 3 });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => api.get(`/r/${i}`)));
    expect(answers).toHaveLength(30);
    expect(server.connections()).toBeGreaterThan(0);
    expect(server.connections()).toBeLessThanOrEqual(3);
  });

  it('says how many requests wait for a connection, and none once all are answered', async () => {
    const held: Array<() => void> = [];
    const server = await serve((_req, res) => held.push(() => json(res, 200, {})));
    const { api } = client(server.url, { connections: 2 });
    const answers = Promise.all(Array.from({ length: 5 }, (_, i) => api.get(`/r/${i}`)));
    await vi.waitFor(() => expect(held).toHaveLength(2));
    expect(api.waiting()).toBe(3);
    for (let answered = 0; answered < 5; answered++) {
      await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
      held.shift()!();
    }
    await answers;
    expect(api.waiting()).toBe(0);
  });

  it('counts a refused connection as a network error', async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    const url = server.url;
    await cleanup.pop()!(); // the server is gone: nothing listens on its port
    const { api, counters } = client(url);
    const err = await api.post('/api/v1/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'NETWORK' });
    expect(counters.get('http.network')).toBe(1);
  });
});
