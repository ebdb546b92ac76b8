import { Link, useNavigate } from '@tanstack/react-router';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@delivery/contracts';
import { useRef, useState, type FormEvent } from 'react';
import { useLogin } from '../../api/auth.ts';
import { Button, Card, ErrorNotice, Field, inputClass } from '../../components/ui.tsx';
import { AuthFrame } from './AuthFrame.tsx';

export function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useLogin();
  const navigate = useNavigate();
  const submitRef = useRef<HTMLButtonElement>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate(
      { email: email.trim(), password },
      { onSuccess: () => void navigate({ to: '/' }) },
    );
  };

  const fill = (demoEmail: string) => {
    setEmail(demoEmail);
    setPassword(DEMO_PASSWORD);
    login.reset();
    submitRef.current?.focus();
  };

  return (
    <AuthFrame title="Sign in">
      <div className="grid gap-6 md:grid-cols-2">
        <Card>
          <form onSubmit={submit} className="space-y-4" noValidate>
            <Field id="login-email" label="Email">
              <input
                id="login-email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                className={inputClass}
              />
            </Field>
            <Field id="login-password" label="Password">
              <input
                id="login-password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                className={inputClass}
              />
            </Field>
            {login.error && <ErrorNotice error={login.error} />}
            <Button
              ref={submitRef}
              type="submit"
              busy={login.isPending}
              disabled={!email || !password}
              className="w-full"
            >
              Sign in
            </Button>
            <p className="text-center text-sm text-slate-600">
              New here?{' '}
              <Link to="/signup" className="font-medium text-brand-700 underline">
                Create an account
              </Link>
            </p>
          </form>
        </Card>
        <Card>
          <h2 className="font-medium">Demo logins</h2>
          <p className="mb-3 text-sm text-slate-600">
            Password <code className="rounded bg-slate-100 px-1">{DEMO_PASSWORD}</code>. Pick one to
            fill the form.
          </p>
          <ul className="divide-y divide-slate-100">
            {DEMO_ACCOUNTS.map((a) => (
              <li key={a.email}>
                <button
                  type="button"
                  onClick={() => fill(a.email)}
                  className="flex w-full items-center justify-between gap-2 rounded px-2 py-1.5 text-left text-sm hover:bg-brand-50"
                >
                  <span>
                    <span className="block font-medium">{a.email}</span>
                    <span className="block text-xs text-slate-500">
                      {a.label ? `${a.name} · ${a.label}` : a.name}
                    </span>
                  </span>
                  <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
                    {a.role}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </AuthFrame>
  );
}
