import type { GeoPoint } from '../adapters/ports.ts';
import { haversineKm } from '../platform/geo.ts';

/**
 * ETA = pickup leg + remaining preparation + drop-off leg. Legs are straight-line (Haversine)
 * distances stretched by a road factor and driven at the vehicle's typical city speed.
 */
export interface EtaSettings {
  roadFactor: number;
  speedKmh: Record<string, number>;
}

export const DEFAULT_ETA_SETTINGS: EtaSettings = {
  roadFactor: 1.35,
  speedKmh: { bicycle: 15, scooter: 24, car: 22 },
};

export interface EtaInput {
  status: string;
  now: number;
  merchant: GeoPoint;
  dropoff: GeoPoint;
  /** Where the driver is, if one is assigned and has reported a position. */
  driver: GeoPoint | null;
  vehicleType: string | null;
  /** When the kitchen is expected to be done (epoch ms), e.g. confirmed_at + prep time. */
  readyAt: number;
}

export function legMinutes(from: GeoPoint, to: GeoPoint, vehicleType: string, s: EtaSettings) {
  const speed = s.speedKmh[vehicleType] ?? s.speedKmh.car ?? 22;
  return ((haversineKm(from, to) * s.roadFactor) / speed) * 60;
}

/** Minutes from `now` until delivery, or null for orders that are finished. */
export function etaMinutes(input: EtaInput, s: EtaSettings = DEFAULT_ETA_SETTINGS): number | null {
  if (input.status === 'delivered' || input.status === 'cancelled') return null;
  const vehicle = input.vehicleType ?? 'car';
  if (input.status === 'picked_up') {
    return legMinutes(input.driver ?? input.merchant, input.dropoff, vehicle, s);
  }
  const pickupLeg = input.driver ? legMinutes(input.driver, input.merchant, vehicle, s) : 0;
  const prepLeft = Math.max(0, (input.readyAt - input.now) / 60_000);
  // The driver waits for the food or the food waits for the driver: the longer one counts.
  return Math.max(pickupLeg, prepLeft) + legMinutes(input.merchant, input.dropoff, vehicle, s);
}
