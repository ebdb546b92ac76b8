import { describe, expect, it } from 'vitest';
import { haversineKm } from '../platform/geo.ts';
import { DEFAULT_ETA_SETTINGS, etaMinutes, legMinutes } from './eta.ts';

const merchant = { lat: 49.4093, lng: 8.6937 };
const dropoff = { lat: 49.4122, lng: 8.7065 };
const now = Date.UTC(2026, 0, 1, 12);

describe('ETA', () => {
  it('drives a leg at the vehicle speed over the road-stretched distance', () => {
    const km = haversineKm(merchant, dropoff);
    expect(legMinutes(merchant, dropoff, 'bicycle', DEFAULT_ETA_SETTINGS)).toBeCloseTo(
      ((km * 1.35) / 15) * 60,
    );
  });

  it('adds pickup leg or remaining prep (the longer) to the drop-off leg', () => {
    const driver = { lat: 49.4, lng: 8.69 };
    const dropLeg = legMinutes(merchant, dropoff, 'car', DEFAULT_ETA_SETTINGS);
    const pickupLeg = legMinutes(driver, merchant, 'car', DEFAULT_ETA_SETTINGS);
    const base = { status: 'preparing', now, merchant, dropoff, driver, vehicleType: 'car' };
    expect(etaMinutes({ ...base, readyAt: now + 30 * 60_000 })).toBeCloseTo(30 + dropLeg);
    expect(etaMinutes({ ...base, readyAt: now })).toBeCloseTo(pickupLeg + dropLeg);
  });

  it('after pickup counts only the way from the driver to the door', () => {
    const driver = { lat: 49.411, lng: 8.7 };
    const eta = etaMinutes({
      status: 'picked_up',
      now,
      merchant,
      dropoff,
      driver,
      vehicleType: 'scooter',
      readyAt: now,
    });
    expect(eta).toBeCloseTo(legMinutes(driver, dropoff, 'scooter', DEFAULT_ETA_SETTINGS));
  });

  it('has no ETA for finished orders', () => {
    const input = { now, merchant, dropoff, driver: null, vehicleType: null, readyAt: now };
    expect(etaMinutes({ ...input, status: 'delivered' })).toBeNull();
    expect(etaMinutes({ ...input, status: 'cancelled' })).toBeNull();
  });
});
