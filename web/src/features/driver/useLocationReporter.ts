import { useEffect, useRef } from 'react';
import type { LocationMessage } from '@delivery/contracts';
import { bearingDeg, distanceKm, stepToward, type LatLng } from '../../lib/geo.ts';
import { useRealtime } from '../../realtime/RealtimeProvider.tsx';
import { useDriver } from '../../stores/driver.ts';

/** How often an online driver reports its position over the socket. */
export const REPORT_EVERY_MS = 3_000;

type Report = Omit<LocationMessage, 'type' | 'seq'>;

function gpsMessage(err: GeolocationPositionError): string {
  switch (err.code) {
    case err.PERMISSION_DENIED:
      return 'Location access was denied. Allow it in the browser, or switch on "Simulate driving".';
    case err.POSITION_UNAVAILABLE:
      return 'This device cannot tell where it is right now.';
    default:
      return 'The device took too long to find its location.';
  }
}

/** The next simulated position: a straight line toward `target` at the chosen speed. */
export function simulatedReport(
  from: LatLng,
  target: LatLng | null,
  speedKmh: number,
): { next: LatLng; report: Report } {
  const speedMps = speedKmh / 3.6;
  const next = target ? stepToward(from, target, (speedMps * REPORT_EVERY_MS) / 1000) : from;
  const moved = distanceKm(from, next) * 1000 > 0.5;
  return {
    next,
    report: {
      lat: next.lat,
      lng: next.lng,
      ...(moved ? { heading: bearingDeg(from, next), speedMps } : { speedMps: 0 }),
    },
  };
}

function gpsReport(fix: GeolocationPosition): Report {
  const { latitude, longitude, accuracy, heading, speed } = fix.coords;
  return {
    lat: latitude,
    lng: longitude,
    accuracyM: Math.min(10_000, Math.max(0, accuracy)),
    ...(heading !== null && Number.isFinite(heading) && heading >= 0 && heading <= 360
      ? { heading }
      : {}),
    ...(speed !== null && Number.isFinite(speed) && speed >= 0 && speed <= 100
      ? { speedMps: speed }
      : {}),
  };
}

/**
 * While the driver is online, sends its position over the WebSocket every 3 s (`location` with a
 * `seq`) and records the server's `ack` or error: the device's location, or with "simulate
 * driving" a drive along a straight line toward `target` (the store, then the customer).
 */
export function useLocationReporter({
  online,
  target,
}: {
  online: boolean;
  target: LatLng | null;
}) {
  const client = useRealtime();
  const simulate = useDriver((s) => s.simulate);
  const targetRef = useRef(target);
  const fix = useRef<GeolocationPosition | null>(null);
  useEffect(() => {
    targetRef.current = target;
  });

  useEffect(
    () =>
      client.onLocationReply((reply) => {
        const state = useDriver.getState();
        if (reply.ok) state.acked(reply.seq);
        else state.failed(reply.seq, reply.message);
      }),
    [client],
  );

  // The device's location, while it is the source.
  useEffect(() => {
    if (!online || simulate) return;
    const { setGpsError, setPosition } = useDriver.getState();
    if (!('geolocation' in navigator)) {
      setGpsError('This browser cannot share its location; switch on "Simulate driving".');
      return;
    }
    const watch = navigator.geolocation.watchPosition(
      (p) => {
        fix.current = p;
        setGpsError(null);
        setPosition({ lat: p.coords.latitude, lng: p.coords.longitude });
      },
      (err) => setGpsError(gpsMessage(err)),
      { enableHighAccuracy: true, maximumAge: 5_000, timeout: 20_000 },
    );
    return () => {
      navigator.geolocation.clearWatch(watch);
      fix.current = null;
    };
  }, [online, simulate]);

  useEffect(() => {
    if (!online) return;
    const tick = () => {
      const state = useDriver.getState();
      if (state.simulate) {
        if (!state.position) return;
        const { next, report } = simulatedReport(state.position, targetRef.current, state.speedKmh);
        const seq = client.sendLocation(report);
        if (seq === null) return; // not connected: stay put rather than jump later
        state.sent(seq);
        state.setPosition(next);
      } else {
        if (!fix.current) return;
        const seq = client.sendLocation(gpsReport(fix.current));
        if (seq !== null) state.sent(seq);
      }
    };
    const timer = setInterval(tick, REPORT_EVERY_MS);
    return () => clearInterval(timer);
  }, [online, client]);
}
