// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CartLines } from '../components/CartLines.tsx';
import { MerchantPage } from '../pages/customer/MerchantPage.tsx';
import { fakeFetch, json, renderWithProviders } from '../test/providers.tsx';
import { menuItem, merchant } from '../test/fixtures.ts';
import { cartCount, MAX_QUANTITY, useCart } from './cart.ts';

const trattoria = merchant();
const bakery = merchant({
  id: '55555555-5555-4555-8555-555555555555',
  name: 'Backhaus Neckarkorn',
});
const pizza = menuItem();
const tiramisu = menuItem({
  id: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
  name: 'Tiramisù',
  priceCents: 590,
});
const pretzel = menuItem({
  id: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
  merchantId: bakery.id,
  name: 'Butter Pretzel',
  priceCents: 190,
});
const soldOut = menuItem({
  id: 'dddddddd-dddd-4ddd-8ddd-dddddddddddd',
  name: 'Fresh Basil',
  isAvailable: false,
});

const disabled = (el: HTMLElement) => (el as HTMLButtonElement).disabled;

function CartOf({ merchantId }: { merchantId: string }) {
  const cart = useCart((s) => s.carts[merchantId]);
  return cart ? <CartLines cart={cart} /> : <p>empty</p>;
}

beforeEach(() => {
  localStorage.clear();
  useCart.setState({ carts: {}, lastDelivery: null });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('cart', () => {
  it('adds menu items from the merchant page and counts them', async () => {
    const api = fakeFetch(({ url }) =>
      url.endsWith('/menu')
        ? json({ items: [pizza, tiramisu, soldOut] })
        : json({ merchant: trattoria }),
    );
    vi.stubGlobal('fetch', api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<MerchantPage merchantId={trattoria.id} />);

    await user.click(await screen.findByRole('button', { name: 'Add Pizza Margherita to cart' }));
    await user.click(screen.getByRole('button', { name: 'Add Pizza Margherita to cart' }));
    await user.click(screen.getByRole('button', { name: 'Add Tiramisù to cart' }));

    expect(disabled(screen.getByRole('button', { name: 'Add Fresh Basil to cart' }))).toBe(true);
    const cart = useCart.getState().carts[trattoria.id];
    expect(cart?.lines.map((l) => [l.name, l.quantity])).toEqual([
      ['Pizza Margherita', 2],
      ['Tiramisù', 1],
    ]);
    expect(screen.getByText('€24.90')).toBeTruthy(); // 2 × 9.50 + 5.90
  });

  it('keeps quantities between 1 and 50 and removes a line at 0', async () => {
    useCart.getState().add(trattoria, pizza, MAX_QUANTITY - 1);
    const user = userEvent.setup();
    render(<CartOf merchantId={trattoria.id} />);

    const more = screen.getByRole('button', { name: 'One more Pizza Margherita' });
    await user.click(more);
    expect(useCart.getState().carts[trattoria.id]?.lines[0]?.quantity).toBe(MAX_QUANTITY);
    expect(disabled(more)).toBe(true);
    expect(useCart.getState().add(trattoria, pizza)).toBe(false);
    useCart.getState().setQuantity(trattoria.id, pizza.id, 500);
    expect(useCart.getState().carts[trattoria.id]?.lines[0]?.quantity).toBe(MAX_QUANTITY);

    useCart.getState().setQuantity(trattoria.id, pizza.id, 1);
    await user.click(await screen.findByRole('button', { name: 'One less Pizza Margherita' }));
    expect(useCart.getState().carts[trattoria.id]).toBeUndefined();
    expect(screen.getByText('empty')).toBeTruthy();
  });

  it('removes a line with its remove button', async () => {
    useCart.getState().add(trattoria, pizza, 2);
    useCart.getState().add(trattoria, tiramisu);
    const user = userEvent.setup();
    render(<CartOf merchantId={trattoria.id} />);

    await user.click(screen.getByRole('button', { name: 'Remove Pizza Margherita' }));

    expect(useCart.getState().carts[trattoria.id]?.lines.map((l) => l.name)).toEqual(['Tiramisù']);
    expect(within(screen.getByRole('list')).queryByText('Pizza Margherita')).toBeNull();
  });

  it('keeps one cart per merchant when the customer switches stores', () => {
    const cart = useCart.getState();
    cart.add(trattoria, pizza, 2);
    const trattoriaKey = useCart.getState().checkoutKey(trattoria.id);
    cart.add(bakery, pretzel, 3);

    const { carts } = useCart.getState();
    expect(Object.keys(carts).sort()).toEqual([trattoria.id, bakery.id].sort());
    expect(carts[trattoria.id]?.lines.map((l) => l.menuItemId)).toEqual([pizza.id]);
    expect(carts[bakery.id]?.lines.map((l) => l.menuItemId)).toEqual([pretzel.id]);
    expect(cartCount(carts[bakery.id])).toBe(3);
    // Another store's cart changing leaves this checkout attempt alone.
    expect(useCart.getState().checkoutKey(trattoria.id)).toBe(trattoriaKey);

    useCart.getState().completeCheckout(bakery.id);
    expect(useCart.getState().carts[bakery.id]).toBeUndefined();
    expect(useCart.getState().carts[trattoria.id]?.lines).toHaveLength(1);
  });

  it('survives a reload (persisted in localStorage)', async () => {
    useCart.getState().add(trattoria, pizza, 2);
    const stored = JSON.parse(localStorage.getItem('delivery.cart') ?? '{}') as {
      state?: { carts?: Record<string, unknown> };
    };
    expect(Object.keys(stored.state?.carts ?? {})).toEqual([trattoria.id]);

    // A new page load: memory starts empty, localStorage still holds the cart.
    const saved = localStorage.getItem('delivery.cart')!;
    useCart.setState({ carts: {} });
    localStorage.setItem('delivery.cart', saved);
    await useCart.persist.rehydrate();
    expect(useCart.getState().carts[trattoria.id]?.lines[0]?.quantity).toBe(2);
  });
});
