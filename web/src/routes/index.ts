import { createRouter } from '@tanstack/react-router';
import type { RoleArea } from './area.ts';
import {
  appRoute,
  indexRoute,
  loginRoute,
  notificationsRoute,
  rootRoute,
  signupRoute,
  welcomeRoute,
} from './root.tsx';

/** Every role's area: one file per role in `./areas/`, each exporting `area`. */
const areas: readonly RoleArea[] = Object.values(
  import.meta.glob<RoleArea>('./areas/*.tsx', { eager: true, import: 'area' }),
);

export function createAppRouter() {
  const routeTree = rootRoute.addChildren([
    indexRoute,
    loginRoute,
    signupRoute,
    appRoute.addChildren([notificationsRoute, welcomeRoute, ...areas.map((a) => a.route)]),
  ]);
  return createRouter({
    routeTree,
    context: { areas },
    defaultPreload: 'intent',
    scrollRestoration: true,
  });
}
