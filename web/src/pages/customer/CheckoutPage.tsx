import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { useMerchant } from '../../api/catalog.ts';
import { Empty, Loading, PageTitle } from '../../components/ui.tsx';
import { CheckoutForm } from '../../features/checkout/CheckoutForm.tsx';
import { useCart } from '../../stores/cart.ts';

export function CheckoutPage({ merchantId }: { merchantId: string }) {
  const cart = useCart((s) => s.carts[merchantId]);
  const merchant = useMerchant(merchantId);
  const navigate = useNavigate();
  const [placed, setPlaced] = useState(false);

  // The placed order empties the cart; say so until the tracking page opens.
  if (placed) return <Loading what="your order" />;
  if (!cart) {
    return (
      <Empty title="Nothing to check out">
        <Link
          to="/merchants/$merchantId"
          params={{ merchantId }}
          className="text-brand-700 underline"
        >
          Back to the menu
        </Link>
      </Empty>
    );
  }
  return (
    <div>
      <PageTitle>Checkout</PageTitle>
      <CheckoutForm
        cart={cart}
        merchant={merchant.data}
        onPlaced={({ order }) => {
          setPlaced(true);
          void navigate({ to: '/orders/$orderId', params: { orderId: order.id } });
        }}
      />
    </div>
  );
}
