import type { User } from '@delivery/contracts';
import { Link, useNavigate } from '@tanstack/react-router';
import { useLogout } from '../api/auth.ts';
import type { RoleArea } from '../routes/area.ts';
import { ConnectionBadge } from './ConnectionBadge.tsx';
import { NotificationBell } from './NotificationBell.tsx';

export function TopBar({ user, area }: { user: User; area: RoleArea | undefined }) {
  const logout = useLogout();
  const navigate = useNavigate();
  const signOut = () =>
    logout.mutate(undefined, { onSettled: () => void navigate({ to: '/login' }) });

  return (
    <header className="sticky top-0 z-[1200] border-b border-slate-200 bg-white/95 backdrop-blur">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-2 px-4 py-2 sm:gap-x-4">
        <Link
          to={area?.home ?? '/'}
          className="flex items-center gap-2 font-semibold text-brand-800"
        >
          <img src="/favicon.svg" alt="" className="h-7 w-7" />
          <span className="hidden sm:inline">Neckar Delivery</span>
          <span className="sr-only sm:hidden">Neckar Delivery</span>
        </Link>
        <nav aria-label="Main" className="flex flex-1 flex-wrap items-center gap-1">
          {area?.nav.map(({ to, label, exact, Badge }) => (
            <Link
              key={to}
              to={to}
              activeOptions={{ exact: Boolean(exact) }}
              className="rounded-md px-2 py-1.5 text-sm text-slate-600 hover:bg-slate-100 sm:px-3"
              activeProps={{ className: 'bg-brand-50 font-medium text-brand-800' }}
            >
              {label}
              {Badge && <Badge />}
            </Link>
          ))}
        </nav>
        <div className="flex items-center gap-2">
          <ConnectionBadge />
          <NotificationBell />
          <span className="hidden text-sm text-slate-600 sm:inline" title={user.email}>
            {user.name} <span className="text-slate-400">· {user.role}</span>
          </span>
          <button
            type="button"
            onClick={signOut}
            disabled={logout.isPending}
            className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50"
          >
            Log out
          </button>
        </div>
      </div>
    </header>
  );
}
