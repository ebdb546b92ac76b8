import { createRoute, Outlet } from '@tanstack/react-router';
import { useEffect } from 'react';
import { useDriverStatus } from '../../api/driver.ts';
import { OfferBadge } from '../../components/OfferBadge.tsx';
import { useCurrentDelivery } from '../../features/driver/useCurrentDelivery.ts';
import { useDriverFeed } from '../../features/driver/useDriverFeed.ts';
import { useLocationReporter } from '../../features/driver/useLocationReporter.ts';
import { DriverHomePage } from '../../pages/driver/DriverHomePage.tsx';
import { DriverOrderPage } from '../../pages/driver/DriverOrderPage.tsx';
import { EarningsPage } from '../../pages/driver/EarningsPage.tsx';
import { useDriver } from '../../stores/driver.ts';
import { requireRole, useRouteParam, type RoleArea } from '../area.ts';
import { appRoute } from '../root.tsx';

/**
 * Every driver page listens to the driver's channel (offers) and, while online, keeps sending
 * the position, so nothing stops when the driver looks at the earnings.
 */
function DriverLayout() {
  useDriverFeed();
  const status = useDriverStatus();
  const online = status.data?.status === 'online';
  const { target } = useCurrentDelivery();
  useLocationReporter({ online, target });

  // Online from an earlier visit: carry on from where the server last saw the driver.
  useEffect(() => {
    const s = status.data;
    if (!online || !s || s.lat === null || s.lng === null) return;
    const driver = useDriver.getState();
    if (!driver.position) driver.setPosition({ lat: s.lat, lng: s.lng });
  }, [online, status.data]);

  return <Outlet />;
}

const layout = createRoute({
  getParentRoute: () => appRoute,
  path: '/driver',
  beforeLoad: requireRole('driver'),
  component: DriverLayout,
});

const homeRoute = createRoute({
  getParentRoute: () => layout,
  path: '/',
  component: DriverHomePage,
});
const earningsRoute = createRoute({
  getParentRoute: () => layout,
  path: '/earnings',
  component: EarningsPage,
});
const orderRoute = createRoute({
  getParentRoute: () => layout,
  path: '/orders/$orderId',
  component: function DriverOrderRoute() {
    const orderId = useRouteParam('orderId');
    return <DriverOrderPage key={orderId} orderId={orderId} />;
  },
});

export const area: RoleArea = {
  role: 'driver',
  home: '/driver',
  nav: [
    { to: '/driver', label: 'Deliveries', exact: true, Badge: OfferBadge },
    { to: '/driver/earnings', label: 'Earnings' },
  ],
  route: layout.addChildren([homeRoute, earningsRoute, orderRoute]),
};
