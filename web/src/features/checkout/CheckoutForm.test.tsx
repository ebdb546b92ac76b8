// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlacedOrder } from '../../api/orders.ts';
import { useCart } from '../../stores/cart.ts';
import { menuItem, merchant, order } from '../../test/fixtures.ts';
import { fakeFetch, json, renderWithProviders, type Call } from '../../test/providers.tsx';
import { CheckoutForm } from './CheckoutForm.tsx';

// Leaflet needs a real layout engine; the pin is not what these tests are about.
vi.mock('../../components/Map.tsx', () => ({ MapView: () => null }));

const store = merchant();
const pizza = menuItem();

/** The cart as the checkout page passes it in, re-read on every render. */
function Checkout({ onPlaced }: { onPlaced: (placed: PlacedOrder) => void }) {
  const cart = useCart((s) => s.carts[store.id]);
  return cart ? <CheckoutForm cart={cart} merchant={store} onPlaced={onPlaced} /> : <p>done</p>;
}

/** `fetch` whose answers to `POST /orders` the test releases one by one. */
function controlledOrders() {
  const pending: Array<(res: Response | Error) => void> = [];
  const api = fakeFetch(
    () =>
      new Promise<Response>((resolve, reject) => {
        pending.push((res) => (res instanceof Error ? reject(res) : resolve(res)));
      }),
  );
  const posts = () => api.calls.filter((c: Call) => c.method === 'POST');
  const keyOf = (c: Call | undefined) => c?.headers['x-idempotency-key'];
  return {
    fetch: api.fetch,
    posts,
    keys: () => posts().map(keyOf),
    answer: (res: Response | Error) => pending.shift()!(res),
  };
}

async function fillAndPlace(user: ReturnType<typeof userEvent.setup>) {
  const address = await screen.findByLabelText('Street and house number');
  if (!(address as HTMLInputElement).value) await user.type(address, 'Plöck 45, 69117 Heidelberg');
  await user.click(screen.getByRole('button', { name: /Place order|Try again/ }));
}

beforeEach(() => {
  localStorage.clear();
  useCart.setState({ carts: {}, lastDelivery: null });
  useCart.getState().add(store, pizza, 2);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("checkout's idempotency key", () => {
  it('sends one request with one key when "Place order" is clicked twice', async () => {
    const server = controlledOrders();
    vi.stubGlobal('fetch', server.fetch);
    const onPlaced = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<Checkout onPlaced={onPlaced} />);

    await user.type(await screen.findByLabelText('Street and house number'), 'Plöck 45');
    const place = screen.getByRole('button', { name: 'Place order' });
    await user.dblClick(place);
    await user.click(place);
    await waitFor(() => expect(server.posts()).toHaveLength(1));

    server.answer(json({ order: order() }, 201));
    await waitFor(() => expect(onPlaced).toHaveBeenCalledTimes(1));
    expect(server.posts()).toHaveLength(1);
    expect(server.keys()[0]).toMatch(/^[A-Za-z0-9_\-:.]{8,64}$/);
    expect(server.posts()[0]?.body).toMatchObject({
      merchantId: store.id,
      items: [{ menuItemId: pizza.id, quantity: 2 }],
      deliveryAddress: 'Plöck 45',
      tipCents: 100,
    });
  });

  it('retries with the same key after a network error and after a 409 in progress', async () => {
    const server = controlledOrders();
    vi.stubGlobal('fetch', server.fetch);
    const onPlaced = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<Checkout onPlaced={onPlaced} />);

    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(1));
    server.answer(new TypeError('Failed to fetch'));
    expect(await screen.findByRole('alert')).toHaveProperty(
      'textContent',
      expect.stringContaining('Cannot reach the server') as string,
    );

    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(2));
    server.answer(
      json(
        { error: { code: 'IDEMPOTENCY_IN_PROGRESS', message: 'Your order is still being placed' } },
        409,
      ),
    );
    await screen.findByText('Your order is still being placed');

    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(3));
    server.answer(json({ order: order() }, 201, { 'idempotent-replayed': 'true' }));
    await waitFor(() => expect(onPlaced).toHaveBeenCalledTimes(1));

    const [first, ...retries] = server.keys();
    expect(first).toBeTruthy();
    expect(retries).toEqual([first, first]);
    expect((onPlaced.mock.calls[0]?.[0] as PlacedOrder).replayed).toBe(true);
  });

  it('uses a new key for the next checkout once the order is placed', async () => {
    const server = controlledOrders();
    vi.stubGlobal('fetch', server.fetch);
    const user = userEvent.setup();
    renderWithProviders(<Checkout onPlaced={() => {}} />);

    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(1));
    server.answer(json({ order: order() }, 201));
    await screen.findByText('done');
    expect(useCart.getState().carts[store.id]).toBeUndefined();

    useCart.getState().add(store, pizza, 2);
    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(2));
    const [first, second] = server.keys();
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
  });

  it('uses a new key when the cart changes after a failed attempt', async () => {
    const server = controlledOrders();
    vi.stubGlobal('fetch', server.fetch);
    const user = userEvent.setup();
    renderWithProviders(<Checkout onPlaced={() => {}} />);

    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(1));
    server.answer(new TypeError('Failed to fetch'));
    await screen.findByRole('alert');

    await user.click(screen.getByRole('button', { name: 'One more Pizza Margherita' }));
    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(2));

    const [first, second] = server.keys();
    expect(second).not.toBe(first);
    expect(server.posts()[1]?.body).toMatchObject({ items: [{ quantity: 3 }] });
  });

  it('keeps the key of a failed attempt across a reload (it is stored with the cart)', async () => {
    const server = controlledOrders();
    vi.stubGlobal('fetch', server.fetch);
    const user = userEvent.setup();
    const { unmount } = renderWithProviders(<Checkout onPlaced={() => {}} />);
    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(1));
    server.answer(new TypeError('Failed to fetch'));
    await screen.findByRole('alert');
    unmount();

    const saved = localStorage.getItem('delivery.cart')!;
    useCart.setState({ carts: {} });
    localStorage.setItem('delivery.cart', saved);
    await useCart.persist.rehydrate();
    renderWithProviders(<Checkout onPlaced={() => {}} />);
    await fillAndPlace(user);
    await waitFor(() => expect(server.posts()).toHaveLength(2));

    const [first, second] = server.keys();
    expect(second).toBe(first);
  });
});
