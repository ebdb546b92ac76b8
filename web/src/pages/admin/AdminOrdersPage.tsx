import { ORDER_STATUSES, type OrderStatus } from '@delivery/contracts';
import { useSearch } from '@tanstack/react-router';
import { Fragment, useState, type FormEvent } from 'react';
import {
  useAdminCancelOrder,
  useAdminDrivers,
  useAdminOrders,
  useAllMerchants,
  useReassignOrder,
  type AdminDriver,
  type AdminOrderFilters,
  type OrderSummary,
} from '../../api/admin.ts';
import {
  Button,
  Empty,
  ErrorNotice,
  Field,
  inputBase,
  inputClass,
  Loading,
  PageTitle,
  StatusBadge,
} from '../../components/ui.tsx';
import { formatCents, formatDateTime, shortId, STATUS_LABEL } from '../../lib/format.ts';

const REASSIGNABLE = new Set<OrderStatus>(['confirmed', 'preparing', 'ready_for_pickup']);
const CANCELLABLE = new Set<OrderStatus>(['pending', 'confirmed', 'preparing', 'ready_for_pickup']);

/** `datetime-local` (the browser's local time) to ISO, or undefined when empty or invalid. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

type Action = { orderId: string; kind: 'reassign' | 'cancel' } | null;

/**
 * Every order, filtered by status, store, driver, "needs attention" and creation time, a page
 * at a time; stuck orders can be reassigned (to a driver, or back to matching) or cancelled.
 */
export function AdminOrdersPage() {
  const search: Record<string, unknown> = useSearch({ strict: false });
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const [merchantId, setMerchantId] = useState('');
  const [driverId, setDriverId] = useState('');
  const [attention, setAttention] = useState(
    () => search.attention === true || search.attention === 'true',
  );
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [action, setAction] = useState<Action>(null);

  const filters: AdminOrderFilters = {
    status: status || undefined,
    merchantId: merchantId || undefined,
    driverId: driverId || undefined,
    needsAttention: attention || undefined,
    createdFrom: isoOf(from),
    createdTo: isoOf(to),
  };
  const cursor = cursors[cursors.length - 1];
  const orders = useAdminOrders(filters, cursor);
  const merchants = useAllMerchants();
  const drivers = useAdminDrivers(undefined);
  const driverById = new Map((drivers.data?.items ?? []).map((d) => [d.id, d]));

  /** Any filter change starts again at the first page. */
  const change =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setCursors([undefined]);
      setAction(null);
    };
  const anyFilter = Object.values(filters).some((v) => v !== undefined);
  const items = orders.data?.items ?? [];

  return (
    <div className="space-y-4">
      <PageTitle>Orders</PageTitle>
      <form
        aria-label="Filter orders"
        className="grid gap-3 rounded-lg border border-slate-200 bg-white p-3 sm:grid-cols-3 lg:grid-cols-6"
        onSubmit={(e: FormEvent) => e.preventDefault()}
      >
        <Field id="f-status" label="Status">
          <select
            id="f-status"
            className={inputClass}
            value={status}
            onChange={(e) => change(setStatus)(e.target.value as OrderStatus | '')}
          >
            <option value="">All</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-merchant" label="Store">
          <select
            id="f-merchant"
            className={inputClass}
            value={merchantId}
            onChange={(e) => change(setMerchantId)(e.target.value)}
          >
            <option value="">All</option>
            {merchants.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-driver" label="Driver">
          <select
            id="f-driver"
            className={inputClass}
            value={driverId}
            onChange={(e) => change(setDriverId)(e.target.value)}
          >
            <option value="">All</option>
            {drivers.data?.items.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-from" label="Created from">
          <input
            id="f-from"
            type="datetime-local"
            className={inputClass}
            value={from}
            onChange={(e) => change(setFrom)(e.target.value)}
          />
        </Field>
        <Field id="f-to" label="Created before">
          <input
            id="f-to"
            type="datetime-local"
            className={inputClass}
            value={to}
            onChange={(e) => change(setTo)(e.target.value)}
          />
        </Field>
        <div className="flex flex-col justify-end gap-2">
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={attention}
              onChange={(e) => change(setAttention)(e.target.checked)}
              className="h-4 w-4 accent-brand-700"
            />
            Needs attention only
          </label>
          {anyFilter && (
            <Button
              variant="ghost"
              className="justify-start px-0"
              onClick={() => {
                setStatus('');
                setMerchantId('');
                setDriverId('');
                setAttention(false);
                setFrom('');
                setTo('');
                setCursors([undefined]);
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
      </form>

      {orders.isPending ? (
        <Loading what="orders" />
      ) : orders.error && items.length === 0 ? (
        <ErrorNotice error={orders.error} onRetry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={anyFilter ? 'No order matches the filters' : 'No orders yet'} />
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-left text-sm" aria-label="Orders">
            <thead className="bg-slate-50 text-xs tracking-wide text-slate-500 uppercase">
              <tr>
                <th scope="col" className="px-3 py-2">
                  Order
                </th>
                <th scope="col" className="px-3 py-2">
                  Created
                </th>
                <th scope="col" className="px-3 py-2">
                  Status
                </th>
                <th scope="col" className="px-3 py-2">
                  Driver
                </th>
                <th scope="col" className="px-3 py-2">
                  Deliver to
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Total
                </th>
                <th scope="col" className="px-3 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {items.map((o) => (
                <Fragment key={o.id}>
                  <tr data-order-id={o.id} className={o.needsAttention ? 'bg-red-50/60' : ''}>
                    <td className="px-3 py-2 whitespace-nowrap">
                      <span className="font-medium">{shortId(o.id)}</span>
                      <span className="block text-xs text-slate-500">{o.merchantName}</span>
                    </td>
                    <td className="px-3 py-2 whitespace-nowrap">
                      {formatDateTime(o.timestamps.createdAt)}
                    </td>
                    <td className="px-3 py-2 whitespace-nowrap">
                      <StatusBadge status={o.status} />
                      {o.needsAttention && (
                        <span className="ml-1 rounded bg-red-600 px-1.5 py-0.5 text-xs font-semibold text-white">
                          Needs attention
                        </span>
                      )}
                      {o.cancelReason && (
                        <span className="block text-xs text-slate-500">{o.cancelReason}</span>
                      )}
                    </td>
                    <td className="px-3 py-2 whitespace-nowrap">
                      {o.driverId ? (driverById.get(o.driverId)?.name ?? shortId(o.driverId)) : '–'}
                      {!o.driverId && REASSIGNABLE.has(o.status) && (
                        <span className="block text-xs text-slate-500">{o.dispatchStatus}</span>
                      )}
                    </td>
                    <td className="max-w-56 truncate px-3 py-2" title={o.deliveryAddress}>
                      {o.deliveryAddress}
                    </td>
                    <td className="px-3 py-2 text-right whitespace-nowrap tabular-nums">
                      {formatCents(o.totalCents)}
                    </td>
                    <td className="px-3 py-2 whitespace-nowrap">
                      <div className="flex justify-end gap-1">
                        {REASSIGNABLE.has(o.status) && (
                          <Button
                            variant="secondary"
                            className="px-2 py-1 text-xs"
                            aria-expanded={action?.orderId === o.id && action.kind === 'reassign'}
                            aria-label={`Reassign order ${shortId(o.id)}`}
                            onClick={() => setAction({ orderId: o.id, kind: 'reassign' })}
                          >
                            Reassign…
                          </Button>
                        )}
                        {CANCELLABLE.has(o.status) && (
                          <Button
                            variant="secondary"
                            className="px-2 py-1 text-xs text-red-700"
                            aria-expanded={action?.orderId === o.id && action.kind === 'cancel'}
                            aria-label={`Cancel order ${shortId(o.id)}`}
                            onClick={() => setAction({ orderId: o.id, kind: 'cancel' })}
                          >
                            Cancel…
                          </Button>
                        )}
                      </div>
                    </td>
                  </tr>
                  {action?.orderId === o.id && (
                    <tr className="bg-slate-50">
                      <td colSpan={7} className="px-3 py-3">
                        {action.kind === 'reassign' ? (
                          <ReassignForm order={o} onDone={() => setAction(null)} />
                        ) : (
                          <CancelForm order={o} onDone={() => setAction(null)} />
                        )}
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {orders.error && items.length > 0 && <ErrorNotice error={orders.error} />}
      <nav aria-label="Pages" className="flex items-center justify-between gap-2">
        <Button
          variant="secondary"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </Button>
        <span className="text-sm text-slate-600">
          Page {cursors.length}
          {orders.isFetching && ' · loading…'}
        </span>
        <Button
          variant="secondary"
          disabled={!orders.data?.nextCursor || orders.isPlaceholderData}
          onClick={() => {
            const next = orders.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older →
        </Button>
      </nav>
    </div>
  );
}

function ReassignForm({ order, onDone }: { order: OrderSummary; onDone: () => void }) {
  const online = useAdminDrivers('online');
  const reassign = useReassignOrder();
  const [driverId, setDriverId] = useState('');
  const [reason, setReason] = useState('');
  const candidates = (online.data?.items ?? []).filter((d: AdminDriver) => d.id !== order.driverId);
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      aria-label={`Reassign order ${shortId(order.id)}`}
      onSubmit={(e) => {
        e.preventDefault();
        reassign.mutate(
          {
            orderId: order.id,
            driverId: driverId || undefined,
            reason: reason.trim() || undefined,
          },
          { onSuccess: onDone },
        );
      }}
    >
      <Field id={`ra-driver-${order.id}`} label="New driver">
        <select
          id={`ra-driver-${order.id}`}
          className={inputBase}
          value={driverId}
          onChange={(e) => setDriverId(e.target.value)}
        >
          <option value="">Nobody yet: back to automatic matching</option>
          {candidates.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} · {d.vehicleType} · {d.activeOrders} active
            </option>
          ))}
        </select>
      </Field>
      <Field id={`ra-reason-${order.id}`} label="Reason (optional)">
        <input
          id={`ra-reason-${order.id}`}
          className={inputBase}
          maxLength={300}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </Field>
      <div className="flex gap-2">
        <Button type="submit" busy={reassign.isPending}>
          Reassign
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Close
        </Button>
      </div>
      {reassign.error && (
        <div className="basis-full">
          <ErrorNotice error={reassign.error} />
        </div>
      )}
    </form>
  );
}

function CancelForm({ order, onDone }: { order: OrderSummary; onDone: () => void }) {
  const cancel = useAdminCancelOrder();
  const [reason, setReason] = useState('');
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      aria-label={`Cancel order ${shortId(order.id)}`}
      onSubmit={(e) => {
        e.preventDefault();
        cancel.mutate(
          { orderId: order.id, reason: reason.trim() || undefined },
          { onSuccess: onDone },
        );
      }}
    >
      <Field id={`cx-reason-${order.id}`} label="Reason (the customer sees it)">
        <input
          id={`cx-reason-${order.id}`}
          className={inputBase}
          maxLength={300}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          autoFocus
        />
      </Field>
      <div className="flex gap-2">
        <Button type="submit" variant="danger" busy={cancel.isPending}>
          Cancel the order
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Keep it
        </Button>
      </div>
      {cancel.error && (
        <div className="basis-full">
          <ErrorNotice error={cancel.error} />
        </div>
      )}
    </form>
  );
}
