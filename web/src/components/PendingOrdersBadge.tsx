import { useMerchantOrders } from '../api/merchant.ts';
import { useSession } from '../stores/session.ts';

/** Orders waiting for the merchant to confirm, next to "Orders" in the top bar. */
export function PendingOrdersBadge() {
  const merchantId = useSession((s) => s.user?.merchantId ?? null);
  const { data } = useMerchantOrders(Boolean(merchantId));
  const waiting = data?.items.filter((o) => o.status === 'pending').length ?? 0;
  if (!waiting) return null;
  return (
    <span className="ml-1.5 rounded-full bg-amber-400 px-1.5 py-0.5 text-xs font-semibold text-amber-950">
      <span className="sr-only">, waiting: </span>
      {waiting}
    </span>
  );
}
