import { RegisterBody, VehicleType } from '@delivery/contracts';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { useRegister } from '../../api/auth.ts';
import { Button, Card, describedBy, ErrorNotice, Field, inputClass } from '../../components/ui.tsx';
import { AuthFrame } from './AuthFrame.tsx';

type SignupRole = 'customer' | 'driver' | 'merchant';
type Field = 'name' | 'email' | 'password' | 'phone' | 'vehicleType';
type Errors = Partial<Record<Field, string>>;

/** What to say when the contract's schema refuses a field. */
const HINT: Record<Field, string> = {
  name: 'Enter your name.',
  email: 'Enter a valid email address.',
  password: 'Use 8 to 200 characters.',
  phone: 'Enter a phone number (3 to 32 characters) or leave it empty.',
  vehicleType: 'Choose your vehicle.',
};

const ROLES: { value: SignupRole; label: string; hint: string }[] = [
  { value: 'customer', label: 'Customer', hint: 'Order from shops nearby' },
  { value: 'driver', label: 'Driver', hint: 'Deliver orders and earn' },
  { value: 'merchant', label: 'Merchant', hint: 'Sell through the platform' },
];

export function SignupPage() {
  const [role, setRole] = useState<SignupRole>('customer');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [phone, setPhone] = useState('');
  const [vehicleType, setVehicleType] = useState<VehicleType | ''>('');
  const [errors, setErrors] = useState<Errors>({});
  const register = useRegister();
  const navigate = useNavigate();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = RegisterBody.safeParse({
      role,
      name,
      email: email.trim(),
      password,
      ...(phone.trim() ? { phone: phone.trim() } : {}),
      ...(role === 'driver' && vehicleType ? { vehicleType } : {}),
    });
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as Field;
        next[field] ??= HINT[field] ?? issue.message;
      }
      setErrors(next);
      return;
    }
    setErrors({});
    register.mutate(parsed.data, { onSuccess: () => void navigate({ to: '/' }) });
  };

  return (
    <AuthFrame title="Create an account">
      <Card className="max-w-lg">
        <form onSubmit={submit} className="space-y-4" noValidate>
          <fieldset>
            <legend className="text-sm font-medium text-slate-700">I want to join as</legend>
            <div className="mt-2 grid grid-cols-3 gap-2">
              {ROLES.map((r) => (
                <label
                  key={r.value}
                  className={`cursor-pointer rounded-md border px-3 py-2 text-sm has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-brand-600 ${role === r.value ? 'border-brand-600 bg-brand-50' : 'border-slate-300'}`}
                >
                  <input
                    type="radio"
                    name="role"
                    value={r.value}
                    checked={role === r.value}
                    onChange={() => setRole(r.value)}
                    className="sr-only"
                  />
                  <span className="block font-medium">{r.label}</span>
                  <span className="block text-xs text-slate-500">{r.hint}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <Field id="signup-name" label="Name" error={errors.name}>
            <input
              id="signup-name"
              autoComplete="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              className={inputClass}
              {...describedBy('signup-name', errors.name)}
            />
          </Field>
          <Field id="signup-email" label="Email" error={errors.email}>
            <input
              id="signup-email"
              type="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              className={inputClass}
              {...describedBy('signup-email', errors.email)}
            />
          </Field>
          <Field
            id="signup-password"
            label="Password"
            hint="At least 8 characters."
            error={errors.password}
          >
            <input
              id="signup-password"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              className={inputClass}
              {...describedBy('signup-password', errors.password, 'hint')}
            />
          </Field>
          <Field id="signup-phone" label="Phone (optional)" error={errors.phone}>
            <input
              id="signup-phone"
              type="tel"
              autoComplete="tel"
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
              className={inputClass}
              {...describedBy('signup-phone', errors.phone)}
            />
          </Field>
          {role === 'driver' && (
            <Field id="signup-vehicle" label="Vehicle" error={errors.vehicleType}>
              <select
                id="signup-vehicle"
                value={vehicleType}
                onChange={(e) => setVehicleType(e.target.value as VehicleType | '')}
                className={inputClass}
                {...describedBy('signup-vehicle', errors.vehicleType)}
              >
                <option value="">Choose your vehicle…</option>
                {VehicleType.options.map((v) => (
                  <option key={v} value={v}>
                    {v[0]!.toUpperCase() + v.slice(1)}
                  </option>
                ))}
              </select>
            </Field>
          )}
          {role === 'merchant' && (
            <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
              A new merchant account starts without a store: an administrator attaches your store
              before you can take orders.
            </p>
          )}
          {register.error && <ErrorNotice error={register.error} />}
          <Button type="submit" busy={register.isPending} className="w-full">
            Create account
          </Button>
          <p className="text-center text-sm text-slate-600">
            Already have an account?{' '}
            <Link to="/login" className="font-medium text-brand-700 underline">
              Sign in
            </Link>
          </p>
        </form>
      </Card>
    </AuthFrame>
  );
}
