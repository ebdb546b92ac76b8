import { Link } from '@tanstack/react-router';
import { CartLines } from '../../components/CartLines.tsx';
import { Button, Card, Empty, PageTitle } from '../../components/ui.tsx';
import { useCart } from '../../stores/cart.ts';

export function CartPage() {
  const carts = useCart((s) => s.carts);
  const clear = useCart((s) => s.clear);
  const list = Object.values(carts);
  return (
    <div className="max-w-2xl">
      <PageTitle>Cart</PageTitle>
      {list.length === 0 ? (
        <Empty title="Your cart is empty">
          <Link to="/merchants" className="text-brand-700 underline">
            Find something nearby
          </Link>
        </Empty>
      ) : (
        <div className="space-y-4">
          {list.map((cart) => (
            <Card key={cart.merchantId}>
              <div className="mb-2 flex items-center justify-between">
                <h2 className="font-semibold">
                  <Link
                    to="/merchants/$merchantId"
                    params={{ merchantId: cart.merchantId }}
                    className="hover:underline"
                  >
                    {cart.merchantName}
                  </Link>
                </h2>
                <Button variant="ghost" onClick={() => clear(cart.merchantId)}>
                  Empty cart
                </Button>
              </div>
              <CartLines cart={cart} />
              <div className="mt-3 flex justify-end">
                <Link
                  to="/checkout/$merchantId"
                  params={{ merchantId: cart.merchantId }}
                  className="rounded-md bg-brand-700 px-4 py-2 text-sm font-medium text-white hover:bg-brand-800"
                >
                  Checkout
                </Link>
              </div>
            </Card>
          ))}
        </div>
      )}
    </div>
  );
}
