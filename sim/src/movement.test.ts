import { describe, expect, it } from 'vitest';
import { distanceM, offset } from './geo.ts';
import { Mover, VEHICLES, VEHICLE_TYPES, type VehicleType } from './movement.ts';
import { Rng } from './rng.ts';

const start = { lat: 49.4094, lng: 8.694 };

/** Drives `metres` in a straight line with 1 s steps; returns the seconds it took. */
function drive(vehicle: VehicleType, metres: number, seed: string) {
  const m = new Mover(vehicle, start, new Rng(seed));
  const target = offset(start, 90, metres);
  m.setTarget(target);
  let seconds = 0;
  let maxStep = 0;
  while (seconds < 100_000) {
    seconds += 1;
    const { moved, arrived } = m.step(1);
    maxStep = Math.max(maxStep, moved);
    if (arrived) break;
  }
  return { seconds, maxStep, mover: m, target };
}

describe('Mover', () => {
  it('moves each vehicle at a realistic average speed, bicycles slowest', () => {
    const avg: Record<string, number> = {};
    for (const v of VEHICLE_TYPES) {
      const runs = Array.from({ length: 20 }, (_, i) => drive(v, 5_000, `speed-${v}-${i}`));
      avg[v] = (5_000 * runs.length) / runs.reduce((s, r) => s + r.seconds, 0);
      // Slowdowns pull the average below cruise speed, but not by more than half.
      expect(avg[v]).toBeLessThan(VEHICLES[v].cruiseMps);
      expect(avg[v]).toBeGreaterThan(VEHICLES[v].cruiseMps * 0.5);
    }
    expect(avg.bicycle).toBeLessThan(avg.scooter!);
    expect(avg.bicycle).toBeLessThan(avg.car!);
    // km/h: a bicycle 10-16, a car in town 15-30.
    expect(avg.bicycle! * 3.6).toBeGreaterThan(10);
    expect(avg.car! * 3.6).toBeLessThan(30);
  });

  it('arrives exactly at the target and then stands still', () => {
    const { mover, target } = drive('scooter', 1_234, 'arrive');
    expect(mover.position).toEqual(target);
    expect(mover.destination).toBeNull();
    expect(mover.step(1)).toEqual({ moved: 0, arrived: true });
    expect(mover.speedMps).toBe(0);
  });

  it('keeps the noise bounded: never faster than the vehicle can go, never backwards', () => {
    for (const v of VEHICLE_TYPES) {
      const m = new Mover(v, start, new Rng(`bound-${v}`));
      const target = offset(start, 45, 50_000);
      m.setTarget(target);
      let left = distanceM(start, target);
      for (let i = 0; i < 3_000; i++) {
        const { moved } = m.step(1);
        expect(moved).toBeGreaterThanOrEqual(0);
        expect(moved).toBeLessThanOrEqual(VEHICLES[v].maxMps + 1e-9);
        const now = distanceM(m.position, target);
        expect(now).toBeLessThanOrEqual(left + 1e-6);
        left = now;
      }
    }
  });

  it('is not a formula: the same trip takes different times, the same seed the same time', () => {
    const times = new Set(
      Array.from({ length: 10 }, (_, i) => drive('car', 3_000, `trip-${i}`).seconds),
    );
    expect(times.size).toBeGreaterThan(3);
    expect(drive('car', 3_000, 'same').seconds).toBe(drive('car', 3_000, 'same').seconds);
  });
});
