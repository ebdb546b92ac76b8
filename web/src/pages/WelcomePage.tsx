import { Card, PageTitle } from '../components/ui.tsx';
import { useSession } from '../stores/session.ts';

/** The landing page of a role that has no area of its own in `routes/areas/`. */
export function WelcomePage() {
  const user = useSession((s) => s.user);
  return (
    <div className="max-w-xl">
      <PageTitle>Welcome, {user?.name}</PageTitle>
      <Card>
        <p className="text-slate-700">
          You are signed in as <strong>{user?.role}</strong>. The web app has no screens for this
          role; the API serves everything it needs (see{' '}
          <a className="text-brand-700 underline" href="/docs">
            the API docs
          </a>
          ). Your notifications are under the bell above.
        </p>
      </Card>
    </div>
  );
}
