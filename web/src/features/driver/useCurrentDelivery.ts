import { useActiveDeliveries } from '../../api/driver.ts';
import { useMerchant } from '../../api/catalog.ts';
import type { LatLng } from '../../lib/geo.ts';

/**
 * The delivery the driver works on now (the oldest assignment still open), its store, and the
 * next stop: the store until the food is picked up, then the customer's door.
 */
export function useCurrentDelivery(enabled = true) {
  const active = useActiveDeliveries(enabled);
  const current = active.data?.[0] ?? null;
  const merchant = useMerchant(current?.merchantId);
  const store: LatLng | null = merchant.data
    ? { lat: merchant.data.lat, lng: merchant.data.lng }
    : null;
  const target: LatLng | null = !current
    ? null
    : current.status === 'picked_up'
      ? { lat: current.deliveryLat, lng: current.deliveryLng }
      : store;
  return { active, current, store, target };
}
