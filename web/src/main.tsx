import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createQueryClient } from './api/queryClient.ts';
import './index.css';
import { createBrowserRealtime, RealtimeProvider } from './realtime/RealtimeProvider.tsx';
import { createAppRouter } from './routes/index.ts';
import { useDriver } from './stores/driver.ts';
import { useMerchantInbox } from './stores/merchantInbox.ts';
import { useSession } from './stores/session.ts';

const queryClient = createQueryClient();
const realtime = createBrowserRealtime();
const router = createAppRouter();

// Signed out anywhere (logout, an expired token): nothing cached may outlive the session, and
// the current page re-checks who may see it.
useSession.subscribe((now, before) => {
  if (before.user && !now.user) {
    queryClient.clear();
    useMerchantInbox.setState({ fresh: new Set() });
    useDriver.getState().reset();
    void router.invalidate();
  }
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider client={realtime}>
        <RouterProvider router={router} />
      </RealtimeProvider>
    </QueryClientProvider>
  </StrictMode>,
);
