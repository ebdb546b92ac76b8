import { CreateOrderBody, type Merchant } from '@delivery/contracts';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.ts';
import type { PlacedOrder } from '../../api/orders.ts';
import { CartLines } from '../../components/CartLines.tsx';
import { MapView } from '../../components/Map.tsx';
import { Button, Card, describedBy, ErrorNotice, Field, inputClass } from '../../components/ui.tsx';
import { formatCents, formatKm } from '../../lib/format.ts';
import { distanceKm, HEIDELBERG, type LatLng } from '../../lib/geo.ts';
import { cartSubtotal, useCart, type Cart } from '../../stores/cart.ts';
import { usePlaceOrder } from './usePlaceOrder.ts';

const TIPS = [0, 100, 200, 300];
type Errors = Partial<Record<'deliveryAddress' | 'tipCents' | 'notes' | 'items', string>>;

function parseEuros(text: string): number | null {
  const n = Number(text.replace(',', '.'));
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : null;
}

export function CheckoutForm({
  cart,
  merchant,
  onPlaced,
}: {
  cart: Cart;
  merchant: Merchant | undefined;
  onPlaced: (placed: PlacedOrder) => void;
}) {
  const last = useCart((s) => s.lastDelivery);
  const [address, setAddress] = useState(last?.address ?? '');
  const [pin, setPin] = useState<LatLng>(last ? { lat: last.lat, lng: last.lng } : HEIDELBERG);
  const [tipChoice, setTipChoice] = useState<number | 'custom'>(100);
  const [customTip, setCustomTip] = useState('');
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const place = usePlaceOrder(cart.merchantId);

  const tipCents = tipChoice === 'custom' ? parseEuros(customTip) : tipChoice;
  const subtotal = cartSubtotal(cart);
  const away = merchant ? distanceKm(merchant, pin) : null;
  const outside = merchant && away !== null && away > merchant.deliveryRadiusKm;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = CreateOrderBody.safeParse({
      merchantId: cart.merchantId,
      items: cart.lines.map((l) => ({ menuItemId: l.menuItemId, quantity: l.quantity })),
      deliveryAddress: address,
      deliveryLat: pin.lat,
      deliveryLng: pin.lng,
      tipCents: tipCents ?? -1,
      ...(notes.trim() ? { notes } : {}),
    });
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as keyof Errors;
        next[field] ??=
          field === 'deliveryAddress' ? 'Enter the street and house number.' : issue.message;
      }
      setErrors(next);
      return;
    }
    setErrors({});
    await place.submit(parsed.data, onPlaced);
  };

  const error = place.error;
  const reused = error instanceof ApiError && error.code === 'IDEMPOTENCY_KEY_REUSED';

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="grid gap-6 lg:grid-cols-5">
      <div className="space-y-4 lg:col-span-3">
        <Card>
          <h2 className="mb-3 font-semibold">Delivery address</h2>
          <div className="space-y-3">
            <Field
              id="checkout-address"
              label="Street and house number"
              error={errors.deliveryAddress}
              hint="Then drag the red pin (or click the map) to your door."
            >
              <input
                id="checkout-address"
                autoComplete="street-address"
                value={address}
                onChange={(e) => setAddress(e.target.value)}
                placeholder="Plöck 45, 69117 Heidelberg"
                className={inputClass}
                {...describedBy('checkout-address', errors.deliveryAddress, 'hint')}
              />
            </Field>
            <MapView
              label="Delivery location: drag the pin or click the map"
              center={pin}
              zoom={15}
              className="h-72"
              onMapClick={setPin}
              markers={[
                ...(merchant
                  ? [
                      {
                        id: 'merchant',
                        kind: 'merchant' as const,
                        lat: merchant.lat,
                        lng: merchant.lng,
                        title: merchant.name,
                      },
                    ]
                  : []),
                {
                  id: 'pin',
                  kind: 'pin',
                  lat: pin.lat,
                  lng: pin.lng,
                  title: 'Delivery location (drag to move)',
                  draggable: true,
                  onDragEnd: setPin,
                },
              ]}
            />
            <p className="text-xs text-slate-500">
              Pin at {pin.lat.toFixed(5)}, {pin.lng.toFixed(5)}
              {away !== null && ` · ${formatKm(away)} from ${merchant?.name}`}
            </p>
            {outside && (
              <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
                This is outside {merchant.name}'s delivery area ({merchant.deliveryRadiusKm} km).
              </p>
            )}
            <Field id="checkout-notes" label="Notes for the driver (optional)" error={errors.notes}>
              <textarea
                id="checkout-notes"
                rows={2}
                value={notes}
                onChange={(e) => setNotes(e.target.value)}
                className={inputClass}
                placeholder="Ring twice, 3rd floor"
              />
            </Field>
          </div>
        </Card>
      </div>

      <div className="space-y-4 lg:col-span-2">
        <Card>
          <h2 className="mb-2 font-semibold">{cart.merchantName}</h2>
          <CartLines cart={cart} />
        </Card>
        <Card>
          <fieldset>
            <legend className="mb-2 font-semibold">Tip for your driver</legend>
            <div className="flex flex-wrap gap-2">
              {[...TIPS, 'custom' as const].map((t) => (
                <label
                  key={t}
                  className={`cursor-pointer rounded-md border px-3 py-1.5 text-sm has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-brand-600 ${tipChoice === t ? 'border-brand-600 bg-brand-50' : 'border-slate-300'}`}
                >
                  <input
                    type="radio"
                    name="tip"
                    className="sr-only"
                    checked={tipChoice === t}
                    onChange={() => setTipChoice(t)}
                  />
                  {t === 'custom' ? 'Other' : t === 0 ? 'No tip' : formatCents(t)}
                </label>
              ))}
            </div>
            {tipChoice === 'custom' && (
              <div className="mt-2">
                <Field id="checkout-tip" label="Tip in euros" error={errors.tipCents}>
                  <input
                    id="checkout-tip"
                    inputMode="decimal"
                    value={customTip}
                    onChange={(e) => setCustomTip(e.target.value)}
                    className={inputClass}
                    {...describedBy('checkout-tip', errors.tipCents)}
                  />
                </Field>
              </div>
            )}
          </fieldset>
        </Card>
        <Card>
          <h2 className="mb-2 font-semibold">Estimate</h2>
          <dl className="space-y-1 text-sm">
            <div className="flex justify-between">
              <dt>Items</dt>
              <dd className="tabular-nums">{formatCents(subtotal)}</dd>
            </div>
            <div className="flex justify-between">
              <dt>Tip</dt>
              <dd className="tabular-nums">{formatCents(tipCents ?? 0)}</dd>
            </div>
            <div className="flex justify-between text-slate-500">
              <dt>Delivery fee</dt>
              <dd>calculated when you order</dd>
            </div>
          </dl>
          <p className="mt-2 text-xs text-slate-500">
            An estimate: the server prices the order from the current menu and the distance, and you
            see its breakdown once the order is placed.
          </p>
          {error && (
            <div className="mt-3 space-y-2">
              <ErrorNotice error={error} />
              {reused && (
                <p className="text-sm text-slate-600">
                  An order from this checkout may already exist: check your orders before trying
                  again.
                </p>
              )}
            </div>
          )}
          <Button type="submit" busy={place.isPending} className="mt-4 w-full">
            {error ? 'Try again' : 'Place order'}
          </Button>
        </Card>
      </div>
    </form>
  );
}
