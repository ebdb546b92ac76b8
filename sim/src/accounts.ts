import { readFile } from 'node:fs/promises';
import type { DriverAccount } from './driver.ts';
import { ApiError, type Api } from './http.ts';
import type { MerchantAccount } from './merchant.ts';
import { VEHICLE_TYPES, type VehicleType } from './movement.ts';
import type { Rng } from './rng.ts';

export interface CustomerAccount {
  id: string;
  email: string;
  token: string;
}

/** What `npm run fleet -- provision --tokens-out FILE` writes (see docs/benchmarks.md). */
export interface FleetFile {
  version: 1;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  drivers: DriverAccount[];
  customers: CustomerAccount[];
  merchants: MerchantAccount[];
}

export interface Accounts {
  drivers: DriverAccount[];
  customers: CustomerAccount[];
  merchants: MerchantAccount[];
}

export async function readFleetFile(path: string): Promise<FleetFile> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<FleetFile>;
  if (parsed.version !== 1 || !Array.isArray(parsed.drivers) || !Array.isArray(parsed.customers)) {
    throw new Error(`${path} is not a fleet file written by "npm run fleet -- provision"`);
  }
  return { merchants: [], ...parsed } as FleetFile;
}

/** The demo seed's store owners (server/src/db/seed.ts): the default simulated merchants. */
export const DEMO_MERCHANT_LOGINS = [
  'merchant1@demo.local:demo1234',
  'merchant2@demo.local:demo1234',
  'merchant3@demo.local:demo1234',
];

interface LoginAnswer {
  user: { id: string; email: string; merchantId: string | null };
  token: string;
}

/** Weighted like a city fleet: mostly bicycles and scooters, some cars. */
export function vehicleFor(rng: Rng): VehicleType {
  const x = rng.next();
  return x < 0.4 ? 'bicycle' : x < 0.75 ? 'scooter' : 'car';
}

async function inBatches<T, R>(
  items: T[],
  size: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  }
  return out;
}

async function loginOrRegister(
  api: Api,
  body: {
    email: string;
    password: string;
    name: string;
    role: 'driver' | 'customer';
    vehicleType?: VehicleType;
  },
): Promise<LoginAnswer> {
  try {
    return await api.post<LoginAnswer>('/api/v1/auth/login', {
      body: { email: body.email, password: body.password },
      retry: true,
      expected: [401],
    });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }
  return api.post<LoginAnswer>('/api/v1/auth/register', { body, retry: true });
}

/**
 * Accounts over the public API: signs in `<prefix>-driver-<n>@sim.local` (registering it the
 * first time) and the same for customers, and the store owners of `merchantLogins`. Each
 * costs a password hash on the server, so this is for small fleets; big ones use a fleet file.
 */
export async function accountsOverHttp(
  api: Api,
  opts: {
    drivers: number;
    customers: number;
    prefix: string;
    password: string;
    merchantLogins: string[];
    rng: Rng;
    log: (line: string) => void;
  },
): Promise<Accounts> {
  const driverIdx = Array.from({ length: opts.drivers }, (_, i) => i + 1);
  const drivers = await inBatches(driverIdx, 4, async (n) => {
    const email = `${opts.prefix}-driver-${n}@sim.local`;
    const vehicleType = vehicleFor(opts.rng.fork(`vehicle/${n}`));
    const a = await loginOrRegister(api, {
      email,
      password: opts.password,
      name: `Sim Driver ${n}`,
      role: 'driver',
      vehicleType,
    });
    const status = await api
      .get<{ driver: { vehicleType: string } }>('/api/v1/driver/status', a.token)
      .catch(() => null);
    const v = status?.driver.vehicleType;
    const actual = VEHICLE_TYPES.includes(v as VehicleType) ? (v as VehicleType) : vehicleType;
    return { id: a.user.id, email, token: a.token, vehicleType: actual };
  });
  const customerIdx = Array.from({ length: opts.customers }, (_, i) => i + 1);
  const customers = await inBatches(customerIdx, 4, async (n) => {
    const email = `${opts.prefix}-customer-${n}@sim.local`;
    const a = await loginOrRegister(api, {
      email,
      password: opts.password,
      name: `Sim Customer ${n}`,
      role: 'customer',
    });
    return { id: a.user.id, email, token: a.token };
  });
  const merchants: MerchantAccount[] = [];
  for (const login of opts.merchantLogins) {
    const colon = login.indexOf(':');
    const email = colon > 0 ? login.slice(0, colon) : login;
    const password = colon > 0 ? login.slice(colon + 1) : opts.password;
    try {
      const a = await api.post<LoginAnswer>('/api/v1/auth/login', {
        body: { email, password },
        retry: true,
      });
      if (!a.user.merchantId) {
        opts.log(`${email} owns no store; not simulated`);
        continue;
      }
      merchants.push({ id: a.user.id, email, token: a.token, merchantId: a.user.merchantId });
    } catch (err) {
      opts.log(
        `merchant ${email} could not sign in (${err instanceof Error ? err.message : String(err)}); not simulated`,
      );
    }
  }
  return { drivers, customers, merchants };
}
