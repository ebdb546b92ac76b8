import type { Role } from './common.ts';

/**
 * The demo logins: the server seeds them into an empty database (`server/src/db/seed.ts`) and
 * the web app's sign-in page offers them. One list, so the two cannot drift apart.
 */
export const DEMO_PASSWORD = 'demo1234';

export interface DemoAccount {
  email: string;
  role: Role;
  /** The person's name. */
  name: string;
  /** What the sign-in page shows beside the name: the store a merchant runs, a driver's vehicle. */
  label?: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { email: 'customer1@demo.local', role: 'customer', name: 'Anna Becker' },
  { email: 'customer2@demo.local', role: 'customer', name: 'Jonas Weber' },
  {
    email: 'merchant1@demo.local',
    role: 'merchant',
    name: 'Marco Rinaldi',
    label: 'Trattoria Neckarblick',
  },
  {
    email: 'merchant2@demo.local',
    role: 'merchant',
    name: 'Katrin Hollmann',
    label: 'Backhaus Neckarkorn',
  },
  {
    email: 'merchant3@demo.local',
    role: 'merchant',
    name: 'Tobias Schaller',
    label: 'Weststadt Frischemarkt',
  },
  { email: 'driver1@demo.local', role: 'driver', name: 'Lena Fischer', label: 'bicycle' },
  { email: 'driver2@demo.local', role: 'driver', name: 'Mehmet Yilmaz', label: 'scooter' },
  { email: 'driver3@demo.local', role: 'driver', name: 'Sophie Wagner', label: 'car' },
  { email: 'admin@demo.local', role: 'admin', name: 'Demo Admin' },
];
