import { MerchantCategory, type Merchant } from '@delivery/contracts';
import { Link, useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { useMerchants } from '../../api/catalog.ts';
import { MapView, type MapMarker } from '../../components/Map.tsx';
import {
  Button,
  Empty,
  ErrorNotice,
  Loading,
  PageTitle,
  inputClass,
} from '../../components/ui.tsx';
import { formatKm } from '../../lib/format.ts';
import { HEIDELBERG, type LatLng } from '../../lib/geo.ts';
import { useDebounced } from '../../lib/useDebounced.ts';

const CATEGORY_LABEL: Record<string, string> = {
  restaurant: 'Restaurants',
  grocery: 'Groceries',
  pharmacy: 'Pharmacies',
  bakery: 'Bakeries',
  cafe: 'Cafés',
};

type Locating = 'default' | 'locating' | 'located' | 'denied';

export function MerchantsPage() {
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [where, setWhere] = useState<LatLng>(HEIDELBERG);
  const [locating, setLocating] = useState<Locating>('default');
  const [hovered, setHovered] = useState<string | null>(null);
  const search = useDebounced(q.trim(), 300);
  const navigate = useNavigate();

  const merchants = useMerchants({
    lat: where.lat,
    lng: where.lng,
    ...(search ? { q: search } : {}),
    ...(category ? { category } : {}),
  });

  const locate = () => {
    if (!('geolocation' in navigator)) return setLocating('denied');
    setLocating('locating');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setWhere({ lat: pos.coords.latitude, lng: pos.coords.longitude });
        setLocating('located');
      },
      () => setLocating('denied'),
      { timeout: 10_000, maximumAge: 60_000 },
    );
  };

  const items = merchants.data?.items;
  const markers = useMemo<MapMarker[]>(
    () => [
      { id: 'me', kind: 'me', lat: where.lat, lng: where.lng, title: 'You are here' },
      ...(items ?? []).map((m): MapMarker => ({
        id: m.id,
        kind: m.isOpen ? 'merchant' : 'merchant-closed',
        lat: m.lat,
        lng: m.lng,
        title: `${m.name}${m.isOpen ? '' : ' (closed)'}`,
        active: hovered === m.id,
        onClick: () =>
          void navigate({ to: '/merchants/$merchantId', params: { merchantId: m.id } }),
      })),
    ],
    [items, where, hovered, navigate],
  );

  return (
    <div>
      <PageTitle
        aside={
          <div className="flex items-center gap-2 text-sm text-slate-600">
            <span>
              {locating === 'located'
                ? 'Near your location'
                : locating === 'denied'
                  ? 'Location unavailable: showing central Heidelberg'
                  : 'Near central Heidelberg'}
            </span>
            <Button variant="secondary" onClick={locate} busy={locating === 'locating'}>
              Use my location
            </Button>
          </div>
        }
      >
        Shops nearby
      </PageTitle>

      <form
        role="search"
        className="mb-4 flex flex-wrap gap-3"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="min-w-56 flex-1">
          <label htmlFor="merchant-search" className="sr-only">
            Search shops and dishes
          </label>
          <input
            id="merchant-search"
            type="search"
            placeholder="Search shops and dishes, e.g. pizza"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            className={inputClass}
          />
        </div>
        <div>
          <label htmlFor="merchant-category" className="sr-only">
            Category
          </label>
          <select
            id="merchant-category"
            value={category}
            onChange={(e) => setCategory(e.target.value)}
            className={inputClass}
          >
            <option value="">All categories</option>
            {MerchantCategory.options.map((c) => (
              <option key={c} value={c}>
                {CATEGORY_LABEL[c] ?? c}
              </option>
            ))}
          </select>
        </div>
      </form>

      <div className="grid gap-4 lg:grid-cols-5">
        <div className="lg:col-span-2">
          {merchants.isPending ? (
            <Loading what="shops" />
          ) : merchants.error ? (
            <ErrorNotice error={merchants.error} onRetry={() => void merchants.refetch()} />
          ) : merchants.data.items.length === 0 ? (
            <Empty title="No shops match">Try another search or category.</Empty>
          ) : (
            <ul className="space-y-3" aria-busy={merchants.isFetching}>
              {merchants.data.items.map((m) => (
                <MerchantCard key={m.id} merchant={m} onHover={setHovered} />
              ))}
            </ul>
          )}
        </div>
        <div className="lg:col-span-3">
          <MapView
            label="Map of shops nearby"
            center={where}
            zoom={14}
            markers={markers}
            className="h-[28rem] lg:sticky lg:top-20"
          />
        </div>
      </div>
    </div>
  );
}

function MerchantCard({
  merchant: m,
  onHover,
}: {
  merchant: Merchant;
  onHover: (id: string | null) => void;
}) {
  return (
    <li onMouseEnter={() => onHover(m.id)} onMouseLeave={() => onHover(null)}>
      <Link
        to="/merchants/$merchantId"
        params={{ merchantId: m.id }}
        onFocus={() => onHover(m.id)}
        onBlur={() => onHover(null)}
        className="block rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-brand-600"
      >
        <div className="flex items-start justify-between gap-2">
          <div>
            <h2 className="font-semibold">{m.name}</h2>
            <p className="text-xs tracking-wide text-slate-500 uppercase">{m.category}</p>
          </div>
          <span
            className={`rounded-full px-2 py-0.5 text-xs font-medium ${m.isOpen ? 'bg-emerald-100 text-emerald-800' : 'bg-slate-200 text-slate-600'}`}
          >
            {m.isOpen ? 'Open' : 'Closed'}
          </span>
        </div>
        <p className="mt-1 line-clamp-2 text-sm text-slate-600">{m.description}</p>
        <p className="mt-2 flex flex-wrap gap-x-3 text-sm text-slate-700">
          {m.rating !== null && <span>★ {m.rating.toFixed(1)}</span>}
          {m.distanceKm !== null && <span>{formatKm(m.distanceKm)}</span>}
          <span>~{m.avgPrepTimeMinutes} min prep</span>
        </p>
      </Link>
    </li>
  );
}
