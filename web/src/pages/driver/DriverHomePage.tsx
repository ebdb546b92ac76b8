import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import {
  useCurrentOffer,
  useDriverStatus,
  useGoOffline,
  useGoOnline,
  type DriverStatus,
} from '../../api/driver.ts';
import { MapView } from '../../components/Map.tsx';
import { Button, Card, ErrorNotice, Loading, Spinner } from '../../components/ui.tsx';
import { DeliveryCard } from '../../features/driver/DeliveryCard.tsx';
import { OfferCard } from '../../features/driver/OfferCard.tsx';
import { RateCustomerForm } from '../../features/driver/RateCustomerForm.tsx';
import { useCurrentDelivery } from '../../features/driver/useCurrentDelivery.ts';
import { REPORT_EVERY_MS } from '../../features/driver/useLocationReporter.ts';
import { shortId } from '../../lib/format.ts';
import { HEIDELBERG, type LatLng } from '../../lib/geo.ts';
import { useNow } from '../../lib/useNow.ts';
import { useConnectionState } from '../../realtime/useChannel.ts';
import { SIM_SPEEDS_KMH, useDriver } from '../../stores/driver.ts';

/**
 * The driver's screen, made for a phone: online/offline and where the position comes from, the
 * offer to answer, the delivery under way as steps with a map, and the rating after it.
 */
export function DriverHomePage() {
  const status = useDriverStatus();
  const online = status.data?.status === 'online';
  const offer = useCurrentOffer();
  const { active, current } = useCurrentDelivery();
  const position = useDriver((s) => s.position);
  const notice = useDriver((s) => s.notice);
  const setNotice = useDriver((s) => s.setNotice);
  const justDelivered = useDriver((s) => s.justDelivered);
  const setJustDelivered = useDriver((s) => s.setJustDelivered);

  if (status.isPending) return <Loading what="your status" />;
  if (status.error) {
    return <ErrorNotice error={status.error} onRetry={() => void status.refetch()} />;
  }
  const others = active.data?.slice(1) ?? [];

  return (
    <div className="mx-auto max-w-md space-y-4">
      {notice && (
        <div
          role="status"
          className="flex items-start justify-between gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900"
        >
          <span>{notice}</span>
          <button type="button" className="font-medium underline" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}

      {offer.error && <ErrorNotice error={offer.error} onRetry={() => void offer.refetch()} />}
      {offer.data && <OfferCard key={`offer:${offer.data.id}`} offer={offer.data} />}

      <OnlinePanel status={status.data} />

      {justDelivered && (
        <RateCustomerForm
          key={`rate:${justDelivered}`}
          orderId={justDelivered}
          onDone={() => setJustDelivered(null)}
        />
      )}

      {active.error && <ErrorNotice error={active.error} onRetry={() => void active.refetch()} />}
      {current && <DeliveryCard key={`delivery:${current.id}`} summary={current} me={position} />}
      {others.length > 0 && (
        <Card>
          <h2 className="font-semibold">Also yours</h2>
          <ul className="mt-1 text-sm text-slate-700">
            {others.map((o) => (
              <li key={o.id}>
                {o.merchantName} {shortId(o.id)} → {o.deliveryAddress}
              </li>
            ))}
          </ul>
          <p className="mt-1 text-xs text-slate-500">Next up once the current one is delivered.</p>
        </Card>
      )}

      {!current && !offer.data && !active.isPending && <Idle online={online} position={position} />}
    </div>
  );
}

function Idle({ online, position }: { online: boolean; position: LatLng | null }) {
  return (
    <Card>
      {online ? (
        <div className="space-y-3">
          <p className="flex items-center gap-2 text-slate-700">
            <Spinner small /> Waiting for a delivery offer nearby…
          </p>
          {position && (
            <MapView
              label="Your position"
              center={position}
              zoom={15}
              markers={[{ id: 'me', kind: 'driver', ...position, title: 'You' }]}
              className="h-56"
            />
          )}
        </div>
      ) : (
        <div className="py-4 text-center">
          <p className="font-medium text-slate-700">You are offline</p>
          <p className="mt-1 text-sm text-slate-500">
            Go online to get delivery offers. Your earnings and past deliveries are under{' '}
            <Link to="/driver/earnings" className="text-brand-700 underline">
              Earnings
            </Link>
            .
          </p>
        </div>
      )}
    </Card>
  );
}

function gpsMessage(err: GeolocationPositionError): string {
  return err.code === err.PERMISSION_DENIED
    ? 'Location access was denied. Allow it in the browser, or switch on "Simulate driving".'
    : 'Could not find your location. Try again, or switch on "Simulate driving".';
}

function OnlinePanel({ status }: { status: DriverStatus }) {
  const online = status.status === 'online';
  const simulate = useDriver((s) => s.simulate);
  const speedKmh = useDriver((s) => s.speedKmh);
  const setSimulate = useDriver((s) => s.setSimulate);
  const setSpeed = useDriver((s) => s.setSpeed);
  const gpsError = useDriver((s) => s.gpsError);
  const goOnline = useGoOnline();
  const goOffline = useGoOffline();
  const [locating, setLocating] = useState(false);

  const start = () => {
    const driver = useDriver.getState();
    driver.setGpsError(null);
    if (simulate) {
      const at =
        driver.position ??
        (status.lat !== null && status.lng !== null
          ? { lat: status.lat, lng: status.lng }
          : { ...HEIDELBERG });
      driver.setPosition(at);
      goOnline.mutate(at);
      return;
    }
    if (!('geolocation' in navigator)) {
      driver.setGpsError('This browser cannot share its location; switch on "Simulate driving".');
      return;
    }
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLocating(false);
        const at = { lat: p.coords.latitude, lng: p.coords.longitude };
        driver.setPosition(at);
        goOnline.mutate(at);
      },
      (err) => {
        setLocating(false);
        driver.setGpsError(gpsMessage(err));
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 30_000 },
    );
  };

  return (
    <Card>
      <div className="flex items-center justify-between gap-3">
        <div>
          <h1 className="flex items-center gap-2 text-xl font-semibold">
            <span
              aria-hidden
              className={`h-3 w-3 rounded-full ${online ? 'animate-pulse bg-emerald-500' : 'bg-slate-400'}`}
            />
            {online ? 'You are online' : 'You are offline'}
          </h1>
          <p className="text-sm text-slate-600">
            {online
              ? 'Offers show up here. Keep this page open.'
              : status.activeOrders > 0
                ? 'You still have a delivery: go online so the customer can follow you.'
                : 'Go online to receive delivery offers.'}
          </p>
        </div>
        {online ? (
          <Button
            variant="secondary"
            className="shrink-0 py-3"
            busy={goOffline.isPending}
            onClick={() => goOffline.mutate()}
          >
            Go offline
          </Button>
        ) : (
          <Button
            className="shrink-0 px-5 py-3 text-base"
            busy={goOnline.isPending || locating}
            onClick={start}
          >
            Go online
          </Button>
        )}
      </div>

      {online ? (
        <div className="mt-2 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm text-slate-600">
          <span>{simulate ? 'Simulated drive' : "Using this device's location"}</span>
          {simulate && <SpeedSelect value={speedKmh} onChange={setSpeed} />}
        </div>
      ) : (
        <div className="mt-4 flex flex-wrap items-center justify-between gap-3 border-t border-slate-100 pt-3">
          <label className="flex items-center gap-2 text-sm">
            <button
              type="button"
              role="switch"
              aria-checked={simulate}
              aria-label="Simulate driving"
              onClick={() => setSimulate(!simulate)}
              className={`relative h-6 w-11 shrink-0 rounded-full transition-colors ${simulate ? 'bg-brand-600' : 'bg-slate-300'}`}
            >
              <span
                aria-hidden
                className={`absolute top-0.5 left-0.5 h-5 w-5 rounded-full bg-white shadow transition-transform ${simulate ? 'translate-x-5' : ''}`}
              />
            </button>
            <span>
              Simulate driving
              <span className="block text-xs text-slate-500">
                {simulate
                  ? 'Drives a straight line to each stop (for demos).'
                  : "Uses this device's location."}
              </span>
            </span>
          </label>
          {simulate && <SpeedSelect value={speedKmh} onChange={setSpeed} />}
        </div>
      )}

      {online && <LocationStatus />}
      {gpsError && (
        <div className="mt-3">
          <ErrorNotice error={new Error(gpsError)} />
        </div>
      )}
      {goOnline.error && (
        <div className="mt-3">
          <ErrorNotice error={goOnline.error} />
        </div>
      )}
      {goOffline.error && (
        <div className="mt-3">
          <ErrorNotice error={goOffline.error} />
        </div>
      )}
    </Card>
  );
}

function SpeedSelect({ value, onChange }: { value: number; onChange: (kmh: number) => void }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <span>Speed</span>
      <select
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
      >
        {SIM_SPEEDS_KMH.map((s) => (
          <option key={s} value={s}>
            {s} km/h
          </option>
        ))}
      </select>
    </label>
  );
}

const ago = (now: number, at: number) => `${Math.max(0, Math.round((now - at) / 1000))} s ago`;

/** What happened to the last position report: acknowledged, refused (and why), or not sent. */
function LocationStatus() {
  const now = useNow(1000);
  const connection = useConnectionState();
  const lastSent = useDriver((s) => s.lastSent);
  const lastAck = useDriver((s) => s.lastAck);
  const lastError = useDriver((s) => s.lastError);

  let tone = 'text-slate-600';
  let text: string;
  if (connection !== 'live') {
    tone = 'text-amber-700';
    text = 'Not connected: your position is sent again once the connection is back.';
  } else if (lastError && (!lastAck || lastError.seq > lastAck.seq)) {
    tone = 'text-red-700';
    text = `Position #${lastError.seq} refused: ${lastError.message}`;
  } else if (lastAck) {
    text = `Position #${lastAck.seq} acknowledged ${ago(now, lastAck.at)}.`;
    if (lastSent && lastSent.seq > lastAck.seq && now - lastSent.at > REPORT_EVERY_MS * 2) {
      tone = 'text-amber-700';
      text = `Position #${lastSent.seq} sent ${ago(now, lastSent.at)}, no answer yet.`;
    }
  } else {
    text = `Sharing your position every ${REPORT_EVERY_MS / 1000} s…`;
  }
  return (
    <p className={`mt-3 text-xs ${tone}`} data-testid="location-status">
      <span className="sr-only">Location: </span>
      {text}
    </p>
  );
}
