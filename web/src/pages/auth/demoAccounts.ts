/** The demo logins the server seeds into an empty database (`server/src/db/seed.ts`). */
export const DEMO_PASSWORD = 'demo1234';

export const DEMO_ACCOUNTS = [
  { email: 'customer1@demo.local', role: 'customer', name: 'Anna Becker' },
  { email: 'customer2@demo.local', role: 'customer', name: 'Jonas Weber' },
  { email: 'merchant1@demo.local', role: 'merchant', name: 'Trattoria Neckarblick' },
  { email: 'merchant2@demo.local', role: 'merchant', name: 'Backhaus Neckarkorn' },
  { email: 'merchant3@demo.local', role: 'merchant', name: 'Weststadt Frischemarkt' },
  { email: 'driver1@demo.local', role: 'driver', name: 'Lena Fischer · bicycle' },
  { email: 'driver2@demo.local', role: 'driver', name: 'Mehmet Yilmaz · scooter' },
  { email: 'driver3@demo.local', role: 'driver', name: 'Sophie Wagner · car' },
  { email: 'admin@demo.local', role: 'admin', name: 'Demo Admin' },
] as const;
