/**
 * Demo data for local development and tests: one admin, two customers, three drivers and three
 * merchants with menus, all in Heidelberg (the city of the simulations' OpenStreetMap extract).
 * The businesses, people and phone numbers are fictional; the streets are real.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@delivery/contracts';
import type { PasswordHasher } from '../auth/passwords.ts';
import type { Db, Queryable } from './db.ts';

const DEMO_PHONES: Readonly<Record<string, string>> = {
  'customer1@demo.local': '+49 151 2345 0101',
  'customer2@demo.local': '+49 151 2345 0102',
  'driver1@demo.local': '+49 151 2345 0201',
  'driver2@demo.local': '+49 151 2345 0202',
  'driver3@demo.local': '+49 151 2345 0203',
};

/** Delivery addresses for the demo customers, each within 3 km of every demo merchant. */
export const DEMO_CUSTOMER_ADDRESSES: readonly { address: string; lat: number; lng: number }[] = [
  { address: 'Plöck 45, 69117 Heidelberg', lat: 49.4092, lng: 8.699 },
  { address: 'Kaiserstraße 20, 69115 Heidelberg', lat: 49.4047, lng: 8.6862 },
];

/** Drivers start offline, parked around Bismarckplatz. */
export const DEMO_DRIVERS = [
  {
    email: 'driver1@demo.local',
    vehicleType: 'bicycle',
    rating: 4.9,
    ratingCount: 184,
    lat: 49.4095,
    lng: 8.6926,
  },
  {
    email: 'driver2@demo.local',
    vehicleType: 'scooter',
    rating: 4.7,
    ratingCount: 231,
    lat: 49.409,
    lng: 8.6938,
  },
  {
    email: 'driver3@demo.local',
    vehicleType: 'car',
    rating: 4.6,
    ratingCount: 97,
    lat: 49.4099,
    lng: 8.6933,
  },
] as const;

interface DemoMenuItem {
  name: string;
  description: string;
  priceCents: number;
  category: string;
  isAvailable?: boolean;
}

interface DemoMerchant {
  ownerEmail: string;
  name: string;
  description: string;
  address: string;
  lat: number;
  lng: number;
  category: 'restaurant' | 'grocery' | 'pharmacy' | 'bakery' | 'cafe';
  avgPrepTimeMinutes: number;
  deliveryRadiusKm: number;
  rating: number;
  ratingCount: number;
  menu: readonly DemoMenuItem[];
}

/** Merchant N is owned by merchantN@demo.local. */
export const DEMO_MERCHANTS: readonly DemoMerchant[] = [
  {
    ownerEmail: 'merchant1@demo.local',
    name: 'Trattoria Neckarblick',
    description:
      'Wood-fired pizza and fresh pasta from a family kitchen in the heart of the Altstadt.',
    address: 'Hauptstraße 112, 69117 Heidelberg',
    lat: 49.4107,
    lng: 8.7035,
    category: 'restaurant',
    avgPrepTimeMinutes: 20,
    deliveryRadiusKm: 5,
    rating: 4.6,
    ratingCount: 412,
    menu: [
      {
        name: 'Pizza Margherita',
        description: 'Tomato sauce, fior di latte and fresh basil.',
        priceCents: 950,
        category: 'Pizza',
      },
      {
        name: 'Pizza Diavola',
        description: 'Spicy salami, tomato sauce, mozzarella and chili oil.',
        priceCents: 1250,
        category: 'Pizza',
      },
      {
        name: 'Pizza Funghi e Rucola',
        description: 'Mushrooms, mozzarella, rocket and shaved parmesan.',
        priceCents: 1190,
        category: 'Pizza',
      },
      {
        name: 'Spaghetti Carbonara',
        description: 'Guanciale, egg yolk, pecorino and black pepper.',
        priceCents: 1290,
        category: 'Pasta',
      },
      {
        name: "Penne all'Arrabbiata",
        description: 'Penne in a garlicky tomato sauce with chili.',
        priceCents: 1090,
        category: 'Pasta',
      },
      {
        name: 'Insalata Mista',
        description: 'Mixed leaves, tomatoes, cucumber and house dressing.',
        priceCents: 690,
        category: 'Salads',
      },
      {
        name: 'Tiramisù',
        description: 'Mascarpone, espresso-soaked savoiardi and cocoa.',
        priceCents: 590,
        category: 'Desserts',
      },
      {
        name: 'San Pellegrino 0.5 l',
        description: 'Sparkling mineral water.',
        priceCents: 290,
        category: 'Drinks',
      },
    ],
  },
  {
    ownerEmail: 'merchant2@demo.local',
    name: 'Backhaus Neckarkorn',
    description:
      'A neighbourhood bakery in Bergheim baking sourdough loaves and pretzels every morning.',
    address: 'Bergheimer Straße 45, 69115 Heidelberg',
    lat: 49.4089,
    lng: 8.6858,
    category: 'bakery',
    avgPrepTimeMinutes: 8,
    deliveryRadiusKm: 4,
    rating: 4.8,
    ratingCount: 268,
    menu: [
      {
        name: 'Farmhouse Sourdough (1 kg)',
        description: 'Rye and wheat sourdough with a dark, crackling crust.',
        priceCents: 490,
        category: 'Bread',
      },
      {
        name: 'Spelt Seed Loaf (750 g)',
        description: 'Wholegrain spelt with sunflower, pumpkin and flax seeds.',
        priceCents: 450,
        category: 'Bread',
      },
      {
        name: 'Butter Pretzel',
        description: 'Swabian-style lye pretzel, split and buttered.',
        priceCents: 190,
        category: 'Pastries',
      },
      {
        name: 'Butter Croissant',
        description: 'Flaky all-butter croissant.',
        priceCents: 160,
        category: 'Pastries',
      },
      {
        name: 'Apple Strudel (slice)',
        description: 'Thin pastry filled with apples, raisins and cinnamon.',
        priceCents: 320,
        category: 'Cakes',
      },
      {
        name: 'Black Forest Cake (slice)',
        description: 'Chocolate sponge, cherries, kirsch and whipped cream.',
        priceCents: 390,
        category: 'Cakes',
      },
      {
        name: 'Cappuccino',
        description: 'Double espresso with steamed milk.',
        priceCents: 300,
        category: 'Drinks',
      },
    ],
  },
  {
    ownerEmail: 'merchant3@demo.local',
    name: 'Weststadt Frischemarkt',
    description:
      'A corner grocer in the Weststadt with regional produce, dairy and pantry staples.',
    address: 'Rohrbacher Straße 58, 69115 Heidelberg',
    lat: 49.4036,
    lng: 8.694,
    category: 'grocery',
    avgPrepTimeMinutes: 12,
    deliveryRadiusKm: 6,
    rating: 4.3,
    ratingCount: 137,
    menu: [
      {
        name: 'Organic Bananas (1 kg)',
        description: 'Fair-trade organic bananas.',
        priceCents: 249,
        category: 'Fruit & Veg',
      },
      {
        name: 'Vine Tomatoes (500 g)',
        description: 'Ripe tomatoes on the vine from the Palatinate.',
        priceCents: 229,
        category: 'Fruit & Veg',
      },
      {
        name: 'Fresh Basil (pot)',
        description: 'A growing pot of Genovese basil.',
        priceCents: 199,
        category: 'Fruit & Veg',
        isAvailable: false,
      },
      {
        name: 'Fresh Whole Milk (1 l)',
        description: 'Pasteurised whole milk, 3.8 % fat, from the Odenwald.',
        priceCents: 139,
        category: 'Dairy',
      },
      {
        name: 'Free-Range Eggs (10)',
        description: 'Size M eggs from free-range hens.',
        priceCents: 349,
        category: 'Dairy',
      },
      {
        name: 'Emmental Slices (200 g)',
        description: 'Mild Allgäu Emmental, sliced.',
        priceCents: 279,
        category: 'Dairy',
      },
      {
        name: 'Penne Rigate (500 g)',
        description: 'Durum wheat pasta.',
        priceCents: 129,
        category: 'Pantry',
      },
      {
        name: 'Mineral Water (6 × 1.5 l)',
        description: 'Sparkling mineral water, deposit included.',
        priceCents: 399,
        category: 'Drinks',
      },
    ],
  },
];

// Any constant; two servers seeding an empty database at once serialise on it.
const SEED_LOCK = 72_114_002;

/**
 * Inserts whatever demo rows are missing, in one transaction. Rows are matched by natural key
 * (user email, merchant owner, menu item name within its merchant), so running it again changes
 * nothing; existing rows are never updated. Returns whether anything was inserted.
 */
export async function seedDemoData(db: Db, hasher: PasswordHasher): Promise<{ created: boolean }> {
  // Hashing is deliberately slow: once, outside the transaction, shared by every demo user.
  const passwordHash = await hasher.hash(DEMO_PASSWORD);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    let inserted = 0;
    const userIds = new Map<string, string>();
    for (const a of DEMO_ACCOUNTS) {
      const res = await tx.query(
        `INSERT INTO users (email, password_hash, name, phone, role) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING id`,
        [a.email, passwordHash, a.name, DEMO_PHONES[a.email] ?? null, a.role],
      );
      inserted += res.rows.length;
      // An existing account with a demo email but another role stops the seed (rolled back).
      const { rows } = await tx.query<{ id: string }>(
        'SELECT id FROM users WHERE lower(email) = lower($1) AND role = $2',
        [a.email, a.role],
      );
      if (!rows[0]) throw new Error(`seed: ${a.email} exists without the role ${a.role}`);
      userIds.set(a.email, rows[0].id);
    }

    for (const d of DEMO_DRIVERS) {
      const res = await tx.query(
        `INSERT INTO drivers (id, vehicle_type, status, rating, rating_count, current_lat, current_lng)
         VALUES ($1, $2, 'offline', $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [userIds.get(d.email), d.vehicleType, d.rating, d.ratingCount, d.lat, d.lng],
      );
      inserted += res.rows.length;
    }

    for (const m of DEMO_MERCHANTS) {
      const ownerId = userIds.get(m.ownerEmail);
      const res = await tx.query(
        `INSERT INTO merchants (owner_id, name, description, address, lat, lng, category,
           avg_prep_time_minutes, delivery_radius_km, rating, rating_count, is_open)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, true)
         ON CONFLICT (owner_id) DO NOTHING RETURNING id`,
        [
          ownerId,
          m.name,
          m.description,
          m.address,
          m.lat,
          m.lng,
          m.category,
          m.avgPrepTimeMinutes,
          m.deliveryRadiusKm,
          m.rating,
          m.ratingCount,
        ],
      );
      inserted += res.rows.length;
      const { rows } = await tx.query<{ id: string }>(
        'SELECT id FROM merchants WHERE owner_id = $1',
        [ownerId],
      );
      const merchantId = rows[0]?.id;

      for (const item of m.menu) {
        // A deleted demo item counts as present: re-seeding must not bring it back.
        const res = await tx.query(
          `INSERT INTO menu_items (merchant_id, name, description, price_cents, category, is_available)
           SELECT $1::uuid, $2::text, $3::text, $4::integer, $5::text, $6::boolean
           WHERE NOT EXISTS (SELECT 1 FROM menu_items WHERE merchant_id = $1 AND name = $2)
           RETURNING id`,
          [
            merchantId,
            item.name,
            item.description,
            item.priceCents,
            item.category,
            item.isAvailable ?? true,
          ],
        );
        inserted += res.rows.length;
      }
    }
    return { created: inserted > 0 };
  });
}

/** True when no user exists yet; the server seeds demo data on its first start only. */
export async function isDatabaseEmpty(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ empty: boolean }>(
    'SELECT NOT EXISTS (SELECT 1 FROM users) AS empty',
  );
  return rows[0]?.empty ?? true;
}
