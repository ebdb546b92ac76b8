import { cartSubtotal, MAX_QUANTITY, useCart, type Cart } from '../stores/cart.ts';
import { formatCents } from '../lib/format.ts';

/** A cart's lines with quantity steppers (1-50) and remove buttons. */
export function CartLines({ cart, editable = true }: { cart: Cart; editable?: boolean }) {
  const setQuantity = useCart((s) => s.setQuantity);
  const remove = useCart((s) => s.remove);
  return (
    <div>
      <ul className="divide-y divide-slate-100">
        {cart.lines.map((line) => (
          <li key={line.menuItemId} className="flex items-center justify-between gap-2 py-2">
            <div className="min-w-0">
              <p className="truncate text-sm font-medium">{line.name}</p>
              <p className="text-xs text-slate-500">{formatCents(line.priceCents)} each</p>
            </div>
            {editable ? (
              <div
                className="flex items-center gap-1"
                role="group"
                aria-label={`${line.name} quantity`}
              >
                <button
                  type="button"
                  aria-label={`One less ${line.name}`}
                  onClick={() => setQuantity(cart.merchantId, line.menuItemId, line.quantity - 1)}
                  className="h-7 w-7 rounded border border-slate-300 hover:bg-slate-50"
                >
                  −
                </button>
                <span className="w-7 text-center text-sm tabular-nums" aria-live="polite">
                  {line.quantity}
                </span>
                <button
                  type="button"
                  aria-label={`One more ${line.name}`}
                  disabled={line.quantity >= MAX_QUANTITY}
                  onClick={() => setQuantity(cart.merchantId, line.menuItemId, line.quantity + 1)}
                  className="h-7 w-7 rounded border border-slate-300 hover:bg-slate-50 disabled:opacity-40"
                >
                  +
                </button>
                <button
                  type="button"
                  aria-label={`Remove ${line.name}`}
                  onClick={() => remove(cart.merchantId, line.menuItemId)}
                  className="ml-1 rounded px-1.5 text-slate-400 hover:bg-red-50 hover:text-red-700"
                >
                  ✕
                </button>
              </div>
            ) : (
              <span className="text-sm tabular-nums">× {line.quantity}</span>
            )}
            <span className="w-16 text-right text-sm tabular-nums">
              {formatCents(line.priceCents * line.quantity)}
            </span>
          </li>
        ))}
      </ul>
      <p className="flex justify-between border-t border-slate-200 pt-2 text-sm font-medium">
        <span>Subtotal</span>
        <span className="tabular-nums">{formatCents(cartSubtotal(cart))}</span>
      </p>
    </div>
  );
}
