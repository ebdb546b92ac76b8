import { useCartItemCount } from '../stores/cart.ts';

export function CartBadge() {
  const count = useCartItemCount();
  if (!count) return null;
  return (
    <span className="ml-1.5 rounded-full bg-brand-700 px-1.5 py-0.5 text-xs font-semibold text-white">
      <span className="sr-only">, items: </span>
      {count}
    </span>
  );
}
