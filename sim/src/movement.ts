import { bearingDeg, distanceM, interpolate, type Point } from './geo.ts';
import type { Rng } from './rng.ts';

export type VehicleType = 'bicycle' | 'scooter' | 'car';
export const VEHICLE_TYPES: readonly VehicleType[] = ['bicycle', 'scooter', 'car'];

export interface VehicleProfile {
  /** Typical moving speed in town, m/s. */
  cruiseMps: number;
  /** Spread of the speed around the cruise speed, m/s. */
  sdMps: number;
  /** Never faster than this, m/s. */
  maxMps: number;
  /** Random slowdowns (lights, traffic, crossing) started per minute of driving. */
  slowdownsPerMinute: number;
}

/**
 * Urban speeds: a cargo bicycle ~16 km/h, a scooter ~25 km/h, a car ~29 km/h moving average in
 * town (traffic lights and junctions come on top, as slowdowns).
 */
export const VEHICLES: Readonly<Record<VehicleType, VehicleProfile>> = {
  bicycle: { cruiseMps: 4.5, sdMps: 0.8, maxMps: 8, slowdownsPerMinute: 1 },
  scooter: { cruiseMps: 7, sdMps: 1.2, maxMps: 12.5, slowdownsPerMinute: 1.5 },
  car: { cruiseMps: 8, sdMps: 2, maxMps: 16.7, slowdownsPerMinute: 2 },
};

export interface StepResult {
  /** Metres covered in this step. */
  moved: number;
  arrived: boolean;
}

/**
 * Moves a vehicle along a straight line towards a target. Speed wanders around the vehicle's
 * cruise speed (a mean-reverting random walk, clamped to [0, max]) and random slowdowns cut it
 * to 0-35 % for 5-40 s, so travel time is not a formula of the distance.
 */
export class Mover {
  position: Point;
  heading = 0;
  speedMps = 0;
  private target: Point | null = null;
  private slowFor = 0;
  private slowFactor = 1;
  readonly profile: VehicleProfile;

  constructor(
    readonly vehicle: VehicleType,
    start: Point,
    private readonly rng: Rng,
  ) {
    this.position = { ...start };
    this.profile = VEHICLES[vehicle];
  }

  get destination(): Point | null {
    return this.target;
  }

  setTarget(target: Point | null): void {
    this.target = target ? { ...target } : null;
    if (target) this.heading = bearingDeg(this.position, target);
  }

  /** Advances `dtS` seconds of simulated time, in sub-steps of at most a second. */
  step(dtS: number): StepResult {
    let moved = 0;
    let left = dtS;
    do {
      const r = this.stepOnce(Math.min(1, left));
      moved += r.moved;
      if (r.arrived) return { moved, arrived: true };
      left -= 1;
    } while (left > 0);
    return { moved, arrived: false };
  }

  private stepOnce(dtS: number): StepResult {
    if (!this.target || dtS <= 0) {
      this.speedMps = 0;
      return { moved: 0, arrived: this.target === null };
    }
    const p = this.profile;
    if (this.slowFor > 0) {
      this.slowFor -= dtS;
    } else if (this.rng.chance(1 - Math.exp((-p.slowdownsPerMinute * dtS) / 60))) {
      this.slowFor = this.rng.float(5, 40);
      this.slowFactor = this.rng.float(0, 0.35);
    }
    const base = this.speedMps > 0 ? this.speedMps : p.cruiseMps;
    const wander = base + 0.3 * (p.cruiseMps - base) + this.rng.normal(0, p.sdMps * 0.5);
    const free = Math.min(p.maxMps, Math.max(0.3 * p.cruiseMps, wander));
    const speed = this.slowFor > 0 ? free * this.slowFactor : free;
    this.speedMps = speed;
    const remaining = distanceM(this.position, this.target);
    const moved = speed * dtS;
    this.heading = bearingDeg(this.position, this.target);
    if (moved >= remaining) {
      this.position = { ...this.target };
      this.target = null;
      return { moved: remaining, arrived: true };
    }
    this.position = interpolate(this.position, this.target, moved / remaining);
    return { moved, arrived: false };
  }
}
