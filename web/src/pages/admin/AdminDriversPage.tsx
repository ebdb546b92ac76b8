import { useState } from 'react';
import { useAdminDrivers } from '../../api/admin.ts';
import {
  Button,
  Empty,
  ErrorNotice,
  Field,
  inputClass,
  Loading,
  PageTitle,
} from '../../components/ui.tsx';
import { formatDateTime } from '../../lib/format.ts';

const PAGE = 25;

/** Every driver: online or not, where last seen, how busy, how well rated. */
export function AdminDriversPage() {
  const [status, setStatus] = useState<'' | 'online' | 'offline'>('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const drivers = useAdminDrivers(status || undefined, cursors[cursors.length - 1], PAGE);
  const items = drivers.data?.items ?? [];

  return (
    <div className="space-y-4">
      <PageTitle>Drivers</PageTitle>
      <div className="max-w-xs">
        <Field id="d-status" label="Status">
          <select
            id="d-status"
            className={inputClass}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as '' | 'online' | 'offline');
              setCursors([undefined]);
            }}
          >
            <option value="">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </Field>
      </div>
      {drivers.isPending ? (
        <Loading what="drivers" />
      ) : drivers.error && items.length === 0 ? (
        <ErrorNotice error={drivers.error} onRetry={() => void drivers.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={status ? `No driver is ${status}` : 'No drivers yet'} />
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-left text-sm" aria-label="Drivers">
            <thead className="bg-slate-50 text-xs tracking-wide text-slate-500 uppercase">
              <tr>
                <th scope="col" className="px-3 py-2">
                  Driver
                </th>
                <th scope="col" className="px-3 py-2">
                  Vehicle
                </th>
                <th scope="col" className="px-3 py-2">
                  Status
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Active
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Deliveries
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Rating
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Acceptance
                </th>
                <th scope="col" className="px-3 py-2">
                  Last position
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {items.map((d) => (
                <tr key={d.id}>
                  <td className="px-3 py-2">
                    <span className="font-medium">{d.name}</span>
                    <span className="block text-xs text-slate-500">{d.email}</span>
                  </td>
                  <td className="px-3 py-2 capitalize">{d.vehicleType}</td>
                  <td className="px-3 py-2">
                    <span
                      className={`rounded-full px-2 py-0.5 text-xs font-medium ${d.status === 'online' ? 'bg-emerald-100 text-emerald-800' : 'bg-slate-200 text-slate-700'}`}
                    >
                      {d.status === 'online' ? 'Online' : 'Offline'}
                    </span>
                  </td>
                  <td className="px-3 py-2 text-right tabular-nums">{d.activeOrders}</td>
                  <td className="px-3 py-2 text-right tabular-nums">{d.totalDeliveries}</td>
                  <td className="px-3 py-2 text-right tabular-nums">
                    {d.rating === null ? '–' : `★ ${d.rating.toFixed(1)}`}
                  </td>
                  <td className="px-3 py-2 text-right tabular-nums">
                    {d.acceptanceRate === null ? '–' : `${Math.round(d.acceptanceRate * 100)}%`}
                  </td>
                  <td className="px-3 py-2 text-xs whitespace-nowrap text-slate-600">
                    {d.lat !== null && d.lng !== null
                      ? `${d.lat.toFixed(4)}, ${d.lng.toFixed(4)}`
                      : '–'}
                    {d.locationUpdatedAt && (
                      <span className="block">{formatDateTime(d.locationUpdatedAt)}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {drivers.error && items.length > 0 && <ErrorNotice error={drivers.error} />}
      <nav aria-label="Pages" className="flex items-center justify-between gap-2">
        <Button
          variant="secondary"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Previous
        </Button>
        <span className="text-sm text-slate-600">Page {cursors.length}</span>
        <Button
          variant="secondary"
          disabled={!drivers.data?.nextCursor || drivers.isPlaceholderData}
          onClick={() => {
            const next = drivers.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Next →
        </Button>
      </nav>
    </div>
  );
}
