import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useSession } from '../stores/session.ts';
import { RealtimeClient } from './client.ts';

function socketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/ws`;
}

/**
 * The tab's one socket, signed in with the session's token. A new sign-in (or a sign-out)
 * drops it, so the next subscription connects under the new identity.
 */
export function createBrowserRealtime(): RealtimeClient {
  const client = new RealtimeClient({
    url: socketUrl,
    token: () => useSession.getState().token,
    onUnauthenticated: () => useSession.getState().signOut(),
  });
  useSession.subscribe((now, before) => {
    if (now.token !== before.token) client.reset();
  });
  return client;
}

const RealtimeContext = createContext<RealtimeClient | null>(null);

export function RealtimeProvider({
  client,
  children,
}: {
  client: RealtimeClient;
  children: ReactNode;
}) {
  useEffect(() => {
    const online = () => client.reconnectNow();
    window.addEventListener('online', online);
    return () => window.removeEventListener('online', online);
  }, [client]);

  return <RealtimeContext value={client}>{children}</RealtimeContext>;
}

export function useRealtime(): RealtimeClient {
  const client = useContext(RealtimeContext);
  if (!client) throw new Error('useRealtime needs a <RealtimeProvider>');
  return client;
}
