import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { newIdempotencyKey } from '../lib/ids.ts';

/** The server's limits on one order (`CreateOrderBody`): 1-50 of an item, at most 50 lines. */
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 50;
export const MAX_LINES = 50;

export interface CartLine {
  menuItemId: string;
  name: string;
  priceCents: number;
  quantity: number;
}

export interface Cart {
  merchantId: string;
  merchantName: string;
  lines: CartLine[];
  /**
   * The idempotency key of the current checkout attempt: made on the first "Place order" and
   * reused by every retry until the order is placed or the cart changes.
   */
  checkoutKey: string | null;
}

export interface DeliveryAddress {
  address: string;
  lat: number;
  lng: number;
}

export interface CartState {
  /** One cart per merchant: an order goes to one store, and browsing another keeps this one. */
  carts: Record<string, Cart>;
  lastDelivery: DeliveryAddress | null;
  add: (
    merchant: { id: string; name: string },
    item: { id: string; name: string; priceCents: number },
    quantity?: number,
  ) => boolean;
  setQuantity: (merchantId: string, menuItemId: string, quantity: number) => void;
  remove: (merchantId: string, menuItemId: string) => void;
  clear: (merchantId: string) => void;
  /** The key for placing this cart's order now: the pending attempt's, else a new one. */
  checkoutKey: (merchantId: string) => string;
  /** The order was placed: the cart (and with it the key) is done. */
  completeCheckout: (merchantId: string) => void;
  setLastDelivery: (delivery: DeliveryAddress) => void;
}

const clamp = (n: number) => Math.min(MAX_QUANTITY, Math.max(MIN_QUANTITY, Math.floor(n)));

/** Replaces one cart; a changed cart drops its checkout key, so its next order gets a new one. */
function withCart(carts: Record<string, Cart>, cart: Cart): Record<string, Cart> {
  const next = { ...carts };
  if (cart.lines.length === 0) delete next[cart.merchantId];
  else next[cart.merchantId] = cart;
  return next;
}

export const useCart = create<CartState>()(
  persist(
    (set, get) => ({
      carts: {},
      lastDelivery: null,

      add(merchant, item, quantity = 1) {
        const cart = get().carts[merchant.id] ?? {
          merchantId: merchant.id,
          merchantName: merchant.name,
          lines: [],
          checkoutKey: null,
        };
        const existing = cart.lines.find((l) => l.menuItemId === item.id);
        if (!existing && cart.lines.length >= MAX_LINES) return false;
        const wanted = clamp((existing?.quantity ?? 0) + quantity);
        if (existing && existing.quantity === wanted) return false;
        const line: CartLine = {
          menuItemId: item.id,
          name: item.name,
          priceCents: item.priceCents,
          quantity: wanted,
        };
        const lines = existing
          ? cart.lines.map((l) => (l.menuItemId === item.id ? line : l))
          : [...cart.lines, line];
        set({
          carts: withCart(get().carts, {
            ...cart,
            merchantName: merchant.name,
            lines,
            checkoutKey: null,
          }),
        });
        return true;
      },

      setQuantity(merchantId, menuItemId, quantity) {
        const cart = get().carts[merchantId];
        const line = cart?.lines.find((l) => l.menuItemId === menuItemId);
        if (!cart || !line) return;
        if (quantity < MIN_QUANTITY) return get().remove(merchantId, menuItemId);
        const wanted = clamp(quantity);
        if (wanted === line.quantity) return;
        const lines = cart.lines.map((l) =>
          l.menuItemId === menuItemId ? { ...l, quantity: wanted } : l,
        );
        set({ carts: withCart(get().carts, { ...cart, lines, checkoutKey: null }) });
      },

      remove(merchantId, menuItemId) {
        const cart = get().carts[merchantId];
        if (!cart?.lines.some((l) => l.menuItemId === menuItemId)) return;
        const lines = cart.lines.filter((l) => l.menuItemId !== menuItemId);
        set({ carts: withCart(get().carts, { ...cart, lines, checkoutKey: null }) });
      },

      clear(merchantId) {
        const cart = get().carts[merchantId];
        if (cart) set({ carts: withCart(get().carts, { ...cart, lines: [] }) });
      },

      checkoutKey(merchantId) {
        const cart = get().carts[merchantId];
        if (!cart) throw new Error('The cart is empty');
        if (cart.checkoutKey) return cart.checkoutKey;
        const key = newIdempotencyKey();
        set({ carts: { ...get().carts, [merchantId]: { ...cart, checkoutKey: key } } });
        return key;
      },

      completeCheckout(merchantId) {
        get().clear(merchantId);
      },

      setLastDelivery(delivery) {
        set({ lastDelivery: delivery });
      },
    }),
    {
      name: 'delivery.cart',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: ({ carts, lastDelivery }) => ({ carts, lastDelivery }),
    },
  ),
);

export function cartCount(cart: Cart | undefined): number {
  return cart?.lines.reduce((n, l) => n + l.quantity, 0) ?? 0;
}

export function cartSubtotal(cart: Cart | undefined): number {
  return cart?.lines.reduce((sum, l) => sum + l.quantity * l.priceCents, 0) ?? 0;
}

/** Items in every cart, for the badge in the top bar. */
export function useCartItemCount(): number {
  return useCart((s) => Object.values(s.carts).reduce((n, c) => n + cartCount(c), 0));
}
