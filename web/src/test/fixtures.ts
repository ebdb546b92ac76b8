import type { MenuItem, Merchant, Order } from '@delivery/contracts';

const at = '2026-01-01T12:00:00.000Z';

export function merchant(overrides: Partial<Merchant> = {}): Merchant {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'Trattoria Neckarblick',
    description: 'Pizza and pasta.',
    address: 'Hauptstraße 112, 69117 Heidelberg',
    lat: 49.4107,
    lng: 8.7035,
    category: 'restaurant',
    avgPrepTimeMinutes: 20,
    deliveryRadiusKm: 5,
    rating: 4.6,
    isOpen: true,
    distanceKm: 0.7,
    ...overrides,
  };
}

export function menuItem(overrides: Partial<MenuItem> = {}): MenuItem {
  return {
    id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
    merchantId: merchant().id,
    name: 'Pizza Margherita',
    description: 'Tomato, mozzarella, basil.',
    priceCents: 950,
    category: 'Pizza',
    isAvailable: true,
    updatedAt: at,
    ...overrides,
  };
}

export function order(overrides: Partial<Order> = {}): Order {
  return {
    id: '22222222-2222-4222-8222-222222222222',
    customerId: '33333333-3333-4333-8333-333333333333',
    merchantId: merchant().id,
    merchantName: merchant().name,
    driverId: null,
    status: 'pending',
    deliveryAddress: 'Plöck 45, 69117 Heidelberg',
    deliveryLat: 49.4092,
    deliveryLng: 8.699,
    notes: null,
    subtotalCents: 1900,
    deliveryFeeCents: 256,
    tipCents: 100,
    totalCents: 2256,
    distanceKm: 0.7,
    cancelReason: null,
    dispatchStatus: 'idle',
    needsAttention: false,
    items: [
      {
        id: '44444444-4444-4444-8444-444444444444',
        menuItemId: menuItem().id,
        name: 'Pizza Margherita',
        quantity: 2,
        unitPriceCents: 950,
        lineTotalCents: 1900,
      },
    ],
    timestamps: {
      createdAt: at,
      confirmedAt: null,
      preparingAt: null,
      readyAt: null,
      assignedAt: null,
      pickedUpAt: null,
      deliveredAt: null,
      cancelledAt: null,
    },
    driver: null,
    eta: null,
    ...overrides,
  };
}
