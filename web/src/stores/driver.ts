import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { LatLng } from '../lib/geo.ts';

/** Simulated speeds to pick from; the server refuses anything over 70 m/s (252 km/h). */
export const SIM_SPEEDS_KMH = [20, 40, 80, 200] as const;

export interface LocationReport {
  seq: number;
  at: number;
}

export interface DriverState {
  /** Move along a straight line to the next stop instead of using the device's location. */
  simulate: boolean;
  speedKmh: number;
  /** Where the driver is (the simulated or the last reported position). */
  position: LatLng | null;
  lastSent: LocationReport | null;
  lastAck: LocationReport | null;
  lastError: (LocationReport & { message: string }) | null;
  /** Why the device's location is not available (permission denied, timeout). */
  gpsError: string | null;
  /** Something the driver should know that came live: an offer expired, an order was taken. */
  notice: string | null;
  /** The order just delivered, to rate its customer. */
  justDelivered: string | null;
  setSimulate: (on: boolean) => void;
  setSpeed: (kmh: number) => void;
  setPosition: (p: LatLng) => void;
  sent: (seq: number) => void;
  acked: (seq: number) => void;
  failed: (seq: number, message: string) => void;
  setGpsError: (message: string | null) => void;
  setNotice: (notice: string | null) => void;
  setJustDelivered: (orderId: string | null) => void;
  /** Signed out: nothing of this driver's stays for the next one on this browser. */
  reset: () => void;
}

const transient = {
  position: null,
  lastSent: null,
  lastAck: null,
  lastError: null,
  gpsError: null,
  notice: null,
  justDelivered: null,
} as const;

export const useDriver = create<DriverState>()(
  persist(
    (set) => ({
      simulate: true,
      speedKmh: 40,
      ...transient,
      setSimulate: (simulate) => set({ simulate, gpsError: null }),
      setSpeed: (speedKmh) => set({ speedKmh }),
      setPosition: (position) => set({ position }),
      sent: (seq) => set({ lastSent: { seq, at: Date.now() } }),
      acked: (seq) =>
        set((s) => ({
          lastAck: { seq, at: Date.now() },
          // An error is over once a later report went through.
          lastError: s.lastError && s.lastError.seq < seq ? null : s.lastError,
        })),
      failed: (seq, message) => set({ lastError: { seq, at: Date.now(), message } }),
      setGpsError: (gpsError) => set({ gpsError }),
      setNotice: (notice) => set({ notice }),
      setJustDelivered: (justDelivered) => set({ justDelivered }),
      reset: () => set(transient),
    }),
    {
      name: 'delivery.driver',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: ({ simulate, speedKmh, position }) => ({ simulate, speedKmh, position }),
    },
  ),
);
