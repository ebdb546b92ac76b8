import type { MenuItem, Merchant } from '@delivery/contracts';
import { Link } from '@tanstack/react-router';
import { useMerchant, useMenu } from '../../api/catalog.ts';
import { CartLines } from '../../components/CartLines.tsx';
import { Button, Card, Empty, ErrorNotice, Loading } from '../../components/ui.tsx';
import { formatCents } from '../../lib/format.ts';
import { MAX_QUANTITY, useCart } from '../../stores/cart.ts';

function groupByCategory(items: MenuItem[]): [string, MenuItem[]][] {
  const groups = new Map<string, MenuItem[]>();
  for (const item of items) groups.set(item.category, [...(groups.get(item.category) ?? []), item]);
  return [...groups.entries()];
}

export function MerchantPage({ merchantId }: { merchantId: string }) {
  const merchant = useMerchant(merchantId);
  const menu = useMenu(merchantId);
  const cart = useCart((s) => s.carts[merchantId]);

  if (merchant.isPending) return <Loading what="the shop" />;
  if (merchant.error)
    return <ErrorNotice error={merchant.error} onRetry={() => void merchant.refetch()} />;
  const m = merchant.data;

  return (
    <div className="grid gap-6 lg:grid-cols-3">
      <div className="lg:col-span-2">
        <Link to="/merchants" className="text-sm text-brand-700 underline">
          ← All shops
        </Link>
        <header className="mt-2 mb-4">
          <h1 className="text-2xl font-semibold tracking-tight">{m.name}</h1>
          <p className="text-slate-600">{m.description}</p>
          <p className="mt-1 flex flex-wrap gap-x-3 text-sm text-slate-600">
            <span>{m.address}</span>
            {m.rating !== null && <span>★ {m.rating.toFixed(1)}</span>}
            <span>~{m.avgPrepTimeMinutes} min prep</span>
            <span>Delivers within {m.deliveryRadiusKm} km</span>
          </p>
          {!m.isOpen && (
            <p
              role="status"
              className="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800"
            >
              {m.name} is closed right now. You can browse the menu, but not order.
            </p>
          )}
        </header>
        {menu.isPending ? (
          <Loading what="the menu" />
        ) : menu.error ? (
          <ErrorNotice error={menu.error} onRetry={() => void menu.refetch()} />
        ) : menu.data.length === 0 ? (
          <Empty title="No items on the menu yet" />
        ) : (
          groupByCategory(menu.data).map(([category, items]) => (
            <section key={category} className="mb-6">
              <h2 className="mb-2 text-lg font-semibold">{category}</h2>
              <ul className="grid gap-3 sm:grid-cols-2">
                {items.map((item) => (
                  <MenuItemCard
                    key={item.id}
                    item={item}
                    merchant={m}
                    inCart={cart?.lines.find((l) => l.menuItemId === item.id)?.quantity ?? 0}
                  />
                ))}
              </ul>
            </section>
          ))
        )}
      </div>
      <aside className="lg:sticky lg:top-20 lg:self-start">
        <Card>
          <h2 className="mb-2 font-semibold">Your order</h2>
          {cart ? (
            <>
              <CartLines cart={cart} />
              <Link
                to="/checkout/$merchantId"
                params={{ merchantId }}
                className="mt-3 block rounded-md bg-brand-700 px-3 py-2 text-center text-sm font-medium text-white hover:bg-brand-800"
              >
                Go to checkout
              </Link>
            </>
          ) : (
            <p className="text-sm text-slate-500">Your cart for {m.name} is empty.</p>
          )}
        </Card>
      </aside>
    </div>
  );
}

function MenuItemCard({
  item,
  merchant,
  inCart,
}: {
  item: MenuItem;
  merchant: Merchant;
  inCart: number;
}) {
  const add = useCart((s) => s.add);
  const orderable = item.isAvailable && merchant.isOpen;
  return (
    <li className="flex flex-col justify-between rounded-lg border border-slate-200 bg-white p-3">
      <div>
        <div className="flex justify-between gap-2">
          <h3 className="font-medium">{item.name}</h3>
          <span className="text-sm font-medium tabular-nums">{formatCents(item.priceCents)}</span>
        </div>
        <p className="text-sm text-slate-600">{item.description}</p>
      </div>
      <div className="mt-3 flex items-center justify-between">
        <span className="text-xs text-slate-500">
          {!item.isAvailable ? 'Sold out' : inCart ? `${inCart} in cart` : ''}
        </span>
        <Button
          variant="secondary"
          disabled={!orderable || inCart >= MAX_QUANTITY}
          onClick={() =>
            add(
              { id: merchant.id, name: merchant.name },
              { id: item.id, name: item.name, priceCents: item.priceCents },
            )
          }
          aria-label={`Add ${item.name} to cart`}
        >
          Add
        </Button>
      </div>
    </li>
  );
}
