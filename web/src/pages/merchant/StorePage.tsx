import { StorePatchBody, type Merchant } from '@delivery/contracts';
import { useState, type FormEvent } from 'react';
import { useStore, useUpdateStore } from '../../api/catalog.ts';
import {
  Button,
  Card,
  describedBy,
  ErrorNotice,
  Field,
  inputClass,
  Loading,
  PageTitle,
} from '../../components/ui.tsx';

export function StorePage() {
  const store = useStore();
  if (store.isPending) return <Loading what="your store" />;
  if (store.error) return <ErrorNotice error={store.error} onRetry={() => void store.refetch()} />;
  return (
    <div className="max-w-xl space-y-4">
      <PageTitle>Store settings</PageTitle>
      <OpenToggle store={store.data} />
      <SettingsForm key={store.data.id} store={store.data} />
    </div>
  );
}

function OpenToggle({ store }: { store: Merchant }) {
  const update = useUpdateStore();
  return (
    <Card>
      <div className="flex items-center justify-between gap-4">
        <div>
          <h2 className="font-semibold">{store.name}</h2>
          <p className="text-sm text-slate-600">
            {store.isOpen
              ? 'Open: customers can order now.'
              : 'Closed: customers can browse but not order.'}
          </p>
        </div>
        <button
          type="button"
          role="switch"
          aria-checked={store.isOpen}
          aria-label="Store open"
          disabled={update.isPending}
          onClick={() => update.mutate({ isOpen: !store.isOpen })}
          className={`relative h-7 w-12 shrink-0 rounded-full transition-colors ${store.isOpen ? 'bg-brand-600' : 'bg-slate-300'}`}
        >
          <span
            aria-hidden
            className={`absolute top-1 left-1 h-5 w-5 rounded-full bg-white shadow transition-transform ${store.isOpen ? 'translate-x-5' : ''}`}
          />
        </button>
      </div>
      {update.error && (
        <div className="mt-2">
          <ErrorNotice error={update.error} />
        </div>
      )}
    </Card>
  );
}

type Errors = Partial<Record<'avgPrepTimeMinutes' | 'deliveryRadiusKm', string>>;

function SettingsForm({ store }: { store: Merchant }) {
  const update = useUpdateStore();
  const [prep, setPrep] = useState(String(store.avgPrepTimeMinutes));
  const [radius, setRadius] = useState(String(store.deliveryRadiusKm));
  const [errors, setErrors] = useState<Errors>({});
  const [saved, setSaved] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const parsed = StorePatchBody.safeParse({
      avgPrepTimeMinutes: Number(prep),
      deliveryRadiusKm: Number(radius.replace(',', '.')),
    });
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues)
        next[issue.path[0] as keyof Errors] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    update.mutate(parsed.data, { onSuccess: () => setSaved(true) });
  };

  return (
    <Card>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field
          id="store-prep"
          label="Average preparation time (minutes)"
          hint="1 to 180 minutes; customers see it and it feeds the delivery estimate."
          error={errors.avgPrepTimeMinutes}
        >
          <input
            id="store-prep"
            type="number"
            min={1}
            max={180}
            step={1}
            value={prep}
            onChange={(e) => setPrep(e.target.value)}
            className={inputClass}
            {...describedBy('store-prep', errors.avgPrepTimeMinutes, 'hint')}
          />
        </Field>
        <Field
          id="store-radius"
          label="Delivery radius (km)"
          hint="Up to 50 km from the store."
          error={errors.deliveryRadiusKm}
        >
          <input
            id="store-radius"
            type="number"
            min={0.5}
            max={50}
            step={0.5}
            value={radius}
            onChange={(e) => setRadius(e.target.value)}
            className={inputClass}
            {...describedBy('store-radius', errors.deliveryRadiusKm, 'hint')}
          />
        </Field>
        {update.error && <ErrorNotice error={update.error} />}
        <div className="flex items-center gap-3">
          <Button type="submit" busy={update.isPending}>
            Save
          </Button>
          {saved && (
            <span role="status" className="text-sm text-emerald-700">
              Saved.
            </span>
          )}
        </div>
      </form>
    </Card>
  );
}
