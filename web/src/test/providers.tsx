import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import {
  createMemoryHistory,
  createRootRoute,
  createRouter,
  RouterProvider,
} from '@tanstack/react-router';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { RealtimeClient } from '../realtime/client.ts';
import { RealtimeProvider } from '../realtime/RealtimeProvider.tsx';
import { socketFactory } from './fakeSocket.ts';

export function testQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } },
  });
}

export function testRealtime(sockets = socketFactory()) {
  const client = new RealtimeClient({
    url: () => 'ws://test/ws',
    token: () => 'test-token',
    createSocket: sockets.create,
    backoff: { baseMs: 1, maxMs: 5 },
  });
  return { client, sockets };
}

/** Renders `ui` with a query client, a realtime client on fake sockets, and a router. */
export function renderWithProviders(
  ui: ReactNode,
  {
    queryClient = testQueryClient(),
    realtime = testRealtime().client,
  }: { queryClient?: QueryClient; realtime?: RealtimeClient } = {},
) {
  const router = createRouter({
    routeTree: createRootRoute({ component: () => ui }),
    history: createMemoryHistory({ initialEntries: ['/'] }),
  });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider client={realtime}>
        <RouterProvider router={router} />
      </RealtimeProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A `fetch` stand-in: records each call and answers with `respond`. */
export function fakeFetch(respond: (call: Call) => Promise<Response> | Response) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call: Call = {
      method: init.method ?? 'GET',
      url: typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return respond(call);
  };
  return { fetch, calls };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
