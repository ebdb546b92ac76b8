import type { Order } from '@delivery/contracts';
import { useState } from 'react';
import { useMerchantOrderAction, type MerchantAction } from '../../api/merchant.ts';
import { useOrder } from '../../api/orders.ts';
import { Button, ErrorNotice, Field, inputClass, StatusBadge } from '../../components/ui.tsx';
import { formatCents, formatTime, shortId } from '../../lib/format.ts';

/** An entry of `GET /merchant/orders` (`OrderSummary`: an order without items, driver, eta). */
export type QueueOrder = Omit<Order, 'items' | 'driver' | 'eta'>;

const NEXT: Partial<Record<QueueOrder['status'], { action: MerchantAction; label: string }>> = {
  pending: { action: 'confirm', label: 'Confirm' },
  confirmed: { action: 'preparing', label: 'Start preparing' },
  preparing: { action: 'ready', label: 'Mark ready' },
};
const ACTIVE = new Set(['pending', 'confirmed', 'preparing', 'ready_for_pickup']);
const REASONS = ['Too busy right now', 'An item is out of stock', 'Closing soon'];

export function QueueOrderCard({
  order,
  isNew,
  onSeen,
}: {
  order: QueueOrder;
  isNew: boolean;
  onSeen: () => void;
}) {
  const detail = useOrder(order.id, ACTIVE.has(order.status));
  const act = useMerchantOrderAction();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const next = NEXT[order.status];
  const run = (action: MerchantAction, why?: string) => {
    onSeen();
    act.mutate(
      { orderId: order.id, action, ...(why ? { reason: why } : {}) },
      { onSuccess: () => setRejecting(false) },
    );
  };

  return (
    <li
      className={`rounded-lg border bg-white p-3 shadow-sm ${isNew ? 'border-amber-400 ring-2 ring-amber-300' : 'border-slate-200'}`}
      onFocus={onSeen}
    >
      <div className="flex items-start justify-between gap-2">
        <div>
          <p className="font-medium">
            {shortId(order.id)}{' '}
            {isNew && (
              <span className="ml-1 rounded bg-amber-400 px-1.5 py-0.5 text-xs font-bold text-amber-950">
                NEW
              </span>
            )}
          </p>
          <p className="text-xs text-slate-500">
            {formatTime(order.timestamps.createdAt)} · {formatCents(order.totalCents)}
          </p>
        </div>
        <StatusBadge status={order.status} />
      </div>
      {ACTIVE.has(order.status) && (
        <ul className="mt-2 text-sm text-slate-700">
          {detail.data?.items.map((i) => (
            <li key={i.id}>
              {i.quantity} × {i.name}
            </li>
          )) ?? <li className="text-slate-400">Loading items…</li>}
        </ul>
      )}
      {order.notes && ACTIVE.has(order.status) && (
        <p className="mt-1 text-xs text-slate-500">Notes: {order.notes}</p>
      )}
      {order.status === 'ready_for_pickup' && (
        <p className="mt-2 text-xs text-slate-600">
          {order.driverId ? 'Driver assigned, on the way to you.' : 'Waiting for a driver…'}
        </p>
      )}
      {order.cancelReason && <p className="mt-1 text-xs text-slate-500">{order.cancelReason}</p>}
      {act.error && (
        <div className="mt-2">
          <ErrorNotice error={act.error} />
        </div>
      )}
      {rejecting ? (
        <form
          className="mt-3 space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            run('reject', reason.trim());
          }}
        >
          <Field id={`reject-${order.id}`} label="Reason for rejecting">
            <input
              id={`reject-${order.id}`}
              list={`reasons-${order.id}`}
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              className={inputClass}
              autoFocus
            />
            <datalist id={`reasons-${order.id}`}>
              {REASONS.map((r) => (
                <option key={r} value={r} />
              ))}
            </datalist>
          </Field>
          <div className="flex gap-2">
            <Button type="submit" variant="danger" busy={act.isPending} disabled={!reason.trim()}>
              Reject order
            </Button>
            <Button variant="ghost" onClick={() => setRejecting(false)}>
              Back
            </Button>
          </div>
        </form>
      ) : (
        (next || order.status === 'pending') && (
          <div className="mt-3 flex gap-2">
            {next && (
              <Button busy={act.isPending} onClick={() => run(next.action)}>
                {next.label}
              </Button>
            )}
            {order.status === 'pending' && (
              <Button
                variant="secondary"
                disabled={act.isPending}
                onClick={() => setRejecting(true)}
              >
                Reject…
              </Button>
            )}
          </div>
        )
      )}
    </li>
  );
}
