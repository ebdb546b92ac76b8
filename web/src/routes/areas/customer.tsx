import { createRoute } from '@tanstack/react-router';
import { CartBadge } from '../../components/CartBadge.tsx';
import { CartPage } from '../../pages/customer/CartPage.tsx';
import { CheckoutPage } from '../../pages/customer/CheckoutPage.tsx';
import { MerchantPage } from '../../pages/customer/MerchantPage.tsx';
import { MerchantsPage } from '../../pages/customer/MerchantsPage.tsx';
import { OrdersPage } from '../../pages/customer/OrdersPage.tsx';
import { OrderTrackingPage } from '../../pages/customer/OrderTrackingPage.tsx';
import { requireRole, useRouteParam, type RoleArea } from '../area.ts';
import { appRoute } from '../root.tsx';

const layout = createRoute({
  getParentRoute: () => appRoute,
  id: 'customer',
  beforeLoad: requireRole('customer'),
});

const merchantsRoute = createRoute({
  getParentRoute: () => layout,
  path: '/merchants',
  component: MerchantsPage,
});

const merchantRoute = createRoute({
  getParentRoute: () => layout,
  path: '/merchants/$merchantId',
  component: function MerchantRoute() {
    const merchantId = useRouteParam('merchantId');
    return <MerchantPage merchantId={merchantId} />;
  },
});

const cartRoute = createRoute({ getParentRoute: () => layout, path: '/cart', component: CartPage });

const checkoutRoute = createRoute({
  getParentRoute: () => layout,
  path: '/checkout/$merchantId',
  component: function CheckoutRoute() {
    const merchantId = useRouteParam('merchantId');
    return <CheckoutPage merchantId={merchantId} />;
  },
});

const ordersRoute = createRoute({
  getParentRoute: () => layout,
  path: '/orders',
  component: OrdersPage,
});

const orderRoute = createRoute({
  getParentRoute: () => layout,
  path: '/orders/$orderId',
  component: function OrderRoute() {
    const orderId = useRouteParam('orderId');
    // Keyed: another order is another page, with its own live state.
    return <OrderTrackingPage key={orderId} orderId={orderId} />;
  },
});

export const area: RoleArea = {
  role: 'customer',
  home: '/merchants',
  nav: [
    { to: '/merchants', label: 'Shops' },
    { to: '/orders', label: 'Orders' },
    { to: '/cart', label: 'Cart', Badge: CartBadge },
  ],
  route: layout.addChildren([
    merchantsRoute,
    merchantRoute,
    cartRoute,
    checkoutRoute,
    ordersRoute,
    orderRoute,
  ]),
};
