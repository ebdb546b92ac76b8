import type { Role } from '@delivery/contracts';
import { redirect, useParams, type AnyRoute } from '@tanstack/react-router';
import type { ComponentType } from 'react';
import { useSession } from '../stores/session.ts';

export interface NavItem {
  to: string;
  label: string;
  /** Active only on this exact path (for an area's home, which prefixes its other pages). */
  exact?: boolean;
  /** Drawn after the label, e.g. the cart's item count. */
  Badge?: ComponentType;
}

/**
 * One role's part of the app: its pages (under one route), its home and its top-bar links.
 * Each file in `routes/areas/` exports one as `area`; the router picks them all up.
 */
export interface RoleArea {
  role: Role;
  home: string;
  nav: readonly NavItem[];
  route: AnyRoute;
}

export interface RouterContext {
  areas: readonly RoleArea[];
}

/** Where a role lands after signing in; a role without an area gets the placeholder page. */
export function homeOf(areas: readonly RoleArea[], role: Role): string {
  return areas.find((a) => a.role === role)?.home ?? '/welcome';
}

/** `beforeLoad` of an area: signed-in users of that role only; others go to their own home. */
export function requireRole(role: Role) {
  return ({ context }: { context: RouterContext }) => {
    const user = useSession.getState().user;
    if (!user) throw redirect({ to: '/login' });
    if (user.role !== role) throw redirect({ to: homeOf(context.areas, user.role) });
  };
}

/** A path parameter of the current route (`$merchantId` → `useRouteParam('merchantId')`). */
export function useRouteParam(name: string): string {
  const value = useParams({
    strict: false,
    select: (params: Record<string, string | undefined>) => params[name],
  });
  if (!value) throw new Error(`The route has no parameter ${name}`);
  return value;
}
