import type { MenuItem } from '@delivery/contracts';
import { useState, type FormEvent } from 'react';
import {
  useAddMenuItem,
  useMenu,
  useRemoveMenuItem,
  useUpdateMenuItem,
} from '../../api/catalog.ts';
import {
  Button,
  Card,
  describedBy,
  Empty,
  ErrorNotice,
  Field,
  inputBase,
  inputClass,
  Loading,
  PageTitle,
} from '../../components/ui.tsx';
import { formatCents } from '../../lib/format.ts';
import { useSession } from '../../stores/session.ts';

/** "9.50" or "9,50" euros to cents; null when it is not a price the server takes. */
export function parsePrice(text: string): number | null {
  if (!/^\d+([.,]\d{1,2})?$/.test(text.trim())) return null;
  const cents = Math.round(Number(text.trim().replace(',', '.')) * 100);
  return cents >= 1 && cents <= 1_000_000 ? cents : null;
}

export function MenuPage() {
  const merchantId = useSession((s) => s.user?.merchantId ?? null);
  const menu = useMenu(merchantId ?? undefined);

  if (!merchantId) return <Empty title="You do not run a store yet" />;
  return (
    <div className="grid gap-6 lg:grid-cols-3">
      <div className="lg:col-span-2">
        <PageTitle>Menu</PageTitle>
        {menu.isPending ? (
          <Loading what="the menu" />
        ) : menu.error ? (
          <ErrorNotice error={menu.error} onRetry={() => void menu.refetch()} />
        ) : menu.data.length === 0 ? (
          <Empty title="Your menu is empty">Add your first item with the form.</Empty>
        ) : (
          <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
            {menu.data.map((item) => (
              <MenuRow key={item.id} item={item} merchantId={merchantId} />
            ))}
          </ul>
        )}
      </div>
      <aside className="lg:pt-12">
        <AddItemForm merchantId={merchantId} />
      </aside>
    </div>
  );
}

function MenuRow({ item, merchantId }: { item: MenuItem; merchantId: string }) {
  const update = useUpdateMenuItem(merchantId);
  const remove = useRemoveMenuItem(merchantId);
  const [price, setPrice] = useState((item.priceCents / 100).toFixed(2));
  const [confirming, setConfirming] = useState(false);
  const cents = parsePrice(price);
  // Shows the change at once; the server's answer (or its error) settles it.
  const [toggled, setToggled] = useState<boolean | null>(null);
  const available = toggled ?? item.isAvailable;
  const priceChanged = cents !== null && cents !== item.priceCents;
  const id = `price-${item.id}`;

  const savePrice = (e: FormEvent) => {
    e.preventDefault();
    if (cents !== null) update.mutate({ id: item.id, patch: { priceCents: cents } });
  };

  return (
    <li className="px-4 py-3">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="min-w-0 flex-1">
          <p className="font-medium">
            {item.name} <span className="text-xs font-normal text-slate-500">{item.category}</span>
          </p>
          <p className="truncate text-sm text-slate-500">{item.description}</p>
        </div>
        <form onSubmit={savePrice} className="flex items-end gap-2">
          <div>
            <label htmlFor={id} className="sr-only">
              Price of {item.name} in euros
            </label>
            <div className="flex items-center gap-1">
              <span className="text-sm text-slate-500">€</span>
              <input
                id={id}
                inputMode="decimal"
                value={price}
                onChange={(e) => setPrice(e.target.value)}
                aria-invalid={cents === null || undefined}
                className={`${inputBase} w-24`}
              />
            </div>
          </div>
          <Button
            type="submit"
            variant="secondary"
            disabled={!priceChanged}
            busy={update.isPending && update.variables.patch.priceCents !== undefined}
          >
            Save
          </Button>
        </form>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={available}
            disabled={update.isPending}
            onChange={(e) => {
              setToggled(e.target.checked);
              update.mutate(
                { id: item.id, patch: { isAvailable: e.target.checked } },
                { onSettled: () => setToggled(null) },
              );
            }}
            className="h-4 w-4 accent-brand-700"
          />
          Available
        </label>
        {confirming ? (
          <span className="flex gap-1">
            <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate(item.id)}>
              Remove
            </Button>
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </span>
        ) : (
          <Button
            variant="ghost"
            onClick={() => setConfirming(true)}
            aria-label={`Remove ${item.name}`}
          >
            Remove…
          </Button>
        )}
      </div>
      {cents === null && <p className="mt-1 text-xs text-red-700">Enter a price like 9.50.</p>}
      {(update.error ?? remove.error) && (
        <div className="mt-2">
          <ErrorNotice error={update.error ?? remove.error} />
        </div>
      )}
      {!item.isAvailable && <p className="mt-1 text-xs text-slate-500">Shown as sold out.</p>}
      <span className="sr-only">Current price {formatCents(item.priceCents)}</span>
    </li>
  );
}

type Errors = Partial<Record<'name' | 'price', string>>;

function AddItemForm({ merchantId }: { merchantId: string }) {
  const add = useAddMenuItem(merchantId);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [price, setPrice] = useState('');
  const [category, setCategory] = useState('');
  const [available, setAvailable] = useState(true);
  const [errors, setErrors] = useState<Errors>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const cents = parsePrice(price);
    const next: Errors = {};
    if (!name.trim()) next.name = 'Give the item a name.';
    if (cents === null) next.price = 'Enter a price between 0.01 and 10000, like 9.50.';
    setErrors(next);
    if (cents === null || next.name) return;
    add.mutate(
      {
        name: name.trim(),
        priceCents: cents,
        isAvailable: available,
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(category.trim() ? { category: category.trim() } : {}),
      },
      {
        onSuccess: () => {
          setName('');
          setDescription('');
          setPrice('');
        },
      },
    );
  };

  return (
    <Card>
      <form onSubmit={submit} className="space-y-3" noValidate>
        <h2 className="font-semibold">Add an item</h2>
        <Field id="item-name" label="Name" error={errors.name}>
          <input
            id="item-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            className={inputClass}
            {...describedBy('item-name', errors.name)}
          />
        </Field>
        <Field id="item-description" label="Description (optional)">
          <textarea
            id="item-description"
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            className={inputClass}
          />
        </Field>
        <Field id="item-price" label="Price (€)" error={errors.price}>
          <input
            id="item-price"
            inputMode="decimal"
            placeholder="9.50"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            className={inputClass}
            {...describedBy('item-price', errors.price)}
          />
        </Field>
        <Field id="item-category" label="Category" hint="Defaults to “Mains”.">
          <input
            id="item-category"
            value={category}
            onChange={(e) => setCategory(e.target.value)}
            className={inputClass}
            {...describedBy('item-category', undefined, 'hint')}
          />
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={available}
            onChange={(e) => setAvailable(e.target.checked)}
            className="h-4 w-4 accent-brand-700"
          />
          Available now
        </label>
        {add.error && <ErrorNotice error={add.error} />}
        <Button type="submit" busy={add.isPending} className="w-full">
          Add to menu
        </Button>
        {add.isSuccess && (
          <p role="status" className="text-sm text-emerald-700">
            Added “{add.data.name}”.
          </p>
        )}
      </form>
    </Card>
  );
}
