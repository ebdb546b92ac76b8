import {
  createRootRouteWithContext,
  createRoute,
  Link,
  Navigate,
  Outlet,
  redirect,
} from '@tanstack/react-router';
import type { ReactElement } from 'react';
import { useMe } from '../api/auth.ts';
import { TopBar } from '../components/TopBar.tsx';
import { LoginPage } from '../pages/auth/LoginPage.tsx';
import { SignupPage } from '../pages/auth/SignupPage.tsx';
import { NotificationsPage } from '../pages/NotificationsPage.tsx';
import { WelcomePage } from '../pages/WelcomePage.tsx';
import { useSession } from '../stores/session.ts';
import { homeOf, type RouterContext } from './area.ts';

function NotFound(): ReactElement {
  return (
    <main className="mx-auto max-w-xl px-4 py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-slate-600">There is nothing at this address.</p>
      <Link to="/" className="mt-4 inline-block text-brand-700 underline">
        Go to the start page
      </Link>
    </main>
  );
}

export const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
});

/** `/`: the signed-in user's home, else the login page. */
export const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: ({ context }) => {
    const user = useSession.getState().user;
    throw redirect({ to: user ? homeOf(context.areas, user.role) : '/login' });
  },
});

function redirectSignedIn({ context }: { context: RouterContext }) {
  const user = useSession.getState().user;
  if (user) throw redirect({ to: homeOf(context.areas, user.role) });
}

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  beforeLoad: redirectSignedIn,
  component: LoginPage,
});

export const signupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/signup',
  beforeLoad: redirectSignedIn,
  component: SignupPage,
});

/** The frame of every signed-in page: the top bar with the role's links, then the page. */
function AppLayout(): ReactElement {
  const user = useSession((s) => s.user);
  const { areas }: RouterContext = appRoute.useRouteContext();
  useMe(Boolean(user));
  if (!user) return <Navigate to="/login" />;
  return (
    <div className="min-h-screen">
      <TopBar user={user} area={areas.find((a) => a.role === user.role)} />
      <main className="mx-auto max-w-6xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}

export const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  beforeLoad: () => {
    if (!useSession.getState().user) throw redirect({ to: '/login' });
  },
  component: AppLayout,
});

export const notificationsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/notifications',
  component: NotificationsPage,
});

/** Home of a role without an area of its own (every role has one today). */
export const welcomeRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/welcome',
  component: WelcomePage,
});
