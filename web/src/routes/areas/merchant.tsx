import { createRoute, Outlet } from '@tanstack/react-router';
import { PendingOrdersBadge } from '../../components/PendingOrdersBadge.tsx';
import { MenuPage } from '../../pages/merchant/MenuPage.tsx';
import { QueuePage } from '../../pages/merchant/QueuePage.tsx';
import { StorePage } from '../../pages/merchant/StorePage.tsx';
import { useMerchantFeed } from '../../pages/merchant/useMerchantFeed.ts';
import { requireRole, type RoleArea } from '../area.ts';
import { appRoute } from '../root.tsx';

/** Every merchant page listens to the store's feed, so new orders show wherever they are. */
function MerchantLayout() {
  useMerchantFeed();
  return <Outlet />;
}

const layout = createRoute({
  getParentRoute: () => appRoute,
  path: '/merchant',
  beforeLoad: requireRole('merchant'),
  component: MerchantLayout,
});

const queueRoute = createRoute({ getParentRoute: () => layout, path: '/', component: QueuePage });
const menuRoute = createRoute({ getParentRoute: () => layout, path: '/menu', component: MenuPage });
const storeRoute = createRoute({
  getParentRoute: () => layout,
  path: '/store',
  component: StorePage,
});

export const area: RoleArea = {
  role: 'merchant',
  home: '/merchant',
  nav: [
    { to: '/merchant', label: 'Orders', exact: true, Badge: PendingOrdersBadge },
    { to: '/merchant/menu', label: 'Menu' },
    { to: '/merchant/store', label: 'Store' },
  ],
  route: layout.addChildren([queueRoute, menuRoute, storeRoute]),
};
