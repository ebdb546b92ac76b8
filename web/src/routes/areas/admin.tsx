import { createRoute, Outlet } from '@tanstack/react-router';
import { AdminDriversPage } from '../../pages/admin/AdminDriversPage.tsx';
import { AdminOrdersPage } from '../../pages/admin/AdminOrdersPage.tsx';
import { DashboardPage } from '../../pages/admin/DashboardPage.tsx';
import { FleetPage } from '../../pages/admin/FleetPage.tsx';
import { requireRole, type RoleArea } from '../area.ts';
import { appRoute } from '../root.tsx';

const layout = createRoute({
  getParentRoute: () => appRoute,
  path: '/admin',
  beforeLoad: requireRole('admin'),
  component: Outlet,
});

const dashboardRoute = createRoute({
  getParentRoute: () => layout,
  path: '/',
  component: DashboardPage,
});
const fleetRoute = createRoute({
  getParentRoute: () => layout,
  path: '/fleet',
  component: FleetPage,
});
const ordersRoute = createRoute({
  getParentRoute: () => layout,
  path: '/orders',
  component: AdminOrdersPage,
});
const driversRoute = createRoute({
  getParentRoute: () => layout,
  path: '/drivers',
  component: AdminDriversPage,
});

export const area: RoleArea = {
  role: 'admin',
  home: '/admin',
  nav: [
    { to: '/admin', label: 'Dashboard', exact: true },
    { to: '/admin/fleet', label: 'Fleet' },
    { to: '/admin/orders', label: 'Orders' },
    { to: '/admin/drivers', label: 'Drivers' },
  ],
  route: layout.addChildren([dashboardRoute, fleetRoute, ordersRoute, driversRoute]),
};
