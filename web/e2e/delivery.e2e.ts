/**
 * The web app end to end in real headless Chromium: a delivery across the four roles' screens,
 * and a tracking page reloaded (and cut off) mid-delivery. Screenshots of every view at each
 * key step go to test-results/e2e/<mode>/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from '../../server/test/platform.ts';
import {
  Api,
  eventually,
  HAS_CHROMIUM,
  launchBrowser,
  offsetBetween,
  Person,
  PHONE,
  Shots,
  sleep,
  startPlatform,
} from './harness.ts';

interface TimelineEntry {
  step: string;
  done: boolean;
}

async function timelineOf(page: Page): Promise<TimelineEntry[]> {
  return page.locator('ol[aria-label="Order progress"] > li').evaluateAll((items) =>
    items.map((li) => ({
      step: li.getAttribute('data-step') ?? '?',
      done: li.querySelector('time') !== null,
    })),
  );
}

/** Each step once; the done ones exactly `done`, all before any step still to come. */
function expectTimeline(entries: TimelineEntry[], done: string[]): void {
  const steps = entries.map((e) => e.step);
  expect(new Set(steps).size, `duplicate steps in ${steps.join(', ')}`).toBe(steps.length);
  expect(
    entries
      .filter((e) => e.done)
      .map((e) => e.step)
      .sort(),
  ).toEqual([...done].sort());
  const firstOpen = entries.findIndex((e) => !e.done);
  if (firstOpen >= 0) {
    expect(
      entries.slice(firstOpen).every((e) => !e.done),
      `a gap in ${steps.join(', ')}`,
    ).toBe(true);
  }
}

const UNTIL_PICKED_UP = [
  'pending',
  'confirmed',
  'preparing',
  'assigned',
  'ready_for_pickup',
  'picked_up',
];
const ALL_STEPS = [...UNTIL_PICKED_UP, 'delivered'];

/** Waits until the marker has moved relative to `anchor` (another marker that stays put). */
async function waitForMove(marker: Locator, anchor: Locator, timeoutMs = 15_000): Promise<void> {
  await marker.waitFor();
  const before = await offsetBetween(marker, anchor);
  await eventually(
    'the driver marker to move',
    async () => {
      const now = await offsetBetween(marker, anchor);
      return now.dx !== before.dx || now.dy !== before.dy ? true : undefined;
    },
    timeoutMs,
  );
}

function expectNoProblems(...people: Person[]): void {
  expect(people.flatMap((p) => p.problems.map((m) => `[${p.name}] ${m}`))).toEqual([]);
}

describe.skipIf(!HAS_CHROMIUM)('the web app in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let api: Api;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
    api = new Api(platform.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('delivers an order across the customer, merchant, driver and admin views', async () => {
    const shots = new Shots('journey');
    const base = platform.baseUrl;
    const [customer, merchant, driver, admin] = await Promise.all([
      Person.open(browser, base, 'customer', shots),
      Person.open(browser, base, 'merchant', shots),
      Person.open(browser, base, 'driver', shots, { viewport: PHONE, mobile: true }),
      Person.open(browser, base, 'admin', shots, { viewport: { width: 1440, height: 900 } }),
    ]);
    const people = [customer, merchant, driver, admin];
    try {
      await customer.page.goto(`${base}/login`);
      await customer.page.getByRole('heading', { name: 'Demo logins' }).waitFor();
      await customer.screenshot('login');

      await Promise.all([
        customer.signIn('customer1@demo.local'),
        merchant.signIn('merchant1@demo.local'),
        driver.signIn('driver1@demo.local'),
        admin.signIn('admin@demo.local'),
      ]);

      // The driver starts offline, with "simulate driving" on (the default) at a brisk pace.
      const d = driver.page;
      await d.getByRole('heading', { name: 'You are offline' }).waitFor();
      await expect
        .poll(() =>
          d.getByRole('switch', { name: 'Simulate driving' }).getAttribute('aria-checked'),
        )
        .toBe('true');
      await d.getByLabel('Speed').selectOption('80');
      await driver.screenshot('offline');

      await admin.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await admin.page.getByText('Orders today').waitFor();
      await admin.screenshot('dashboard-before');

      // The customer orders two pizzas from Trattoria Neckarblick.
      const c = customer.page;
      await c
        .getByRole('link', { name: /Trattoria Neckarblick/ })
        .first()
        .click();
      await c.getByRole('button', { name: 'Add Pizza Margherita to cart' }).click();
      await c.getByRole('button', { name: 'Add Pizza Margherita to cart' }).click();
      await c.getByRole('link', { name: 'Go to checkout' }).click();
      await c.getByLabel('Street and house number').fill('Plöck 45, 69117 Heidelberg');
      await customer.screenshot('checkout');
      await c.getByRole('button', { name: 'Place order' }).click();
      await c.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
      const orderId = new URL(c.url()).pathname.split('/').pop()!;
      await c.getByText('Order placed').first().waitFor();
      await customer.screenshot('tracking-placed');

      // The merchant sees it arrive live, confirms it and starts cooking.
      const m = merchant.page;
      await m.getByText('NEW', { exact: true }).first().waitFor();
      await merchant.screenshot('new-order');
      await m.getByRole('button', { name: 'Confirm' }).click();
      await m.getByRole('button', { name: 'Start preparing' }).click();
      await m.getByRole('button', { name: 'Mark ready' }).waitFor();

      // The driver goes online and gets the offer, with a countdown running.
      await d.getByRole('button', { name: 'Go online' }).click();
      await d.getByRole('heading', { name: 'You are online' }).waitFor();
      const offer = d.getByRole('region', { name: 'New delivery offer' });
      await offer.waitFor({ timeout: 20_000 });
      await expect.poll(() => offer.textContent()).toContain('Trattoria Neckarblick');
      const timer = offer.getByRole('timer');
      const first = Number(await timer.getAttribute('data-seconds-left'));
      expect(first).toBeGreaterThan(20);
      expect(first).toBeLessThanOrEqual(30);
      await expect
        .poll(async () => Number(await timer.getAttribute('data-seconds-left')), { timeout: 5_000 })
        .toBeLessThan(first);
      await d
        .getByTestId('location-status')
        .getByText(/acknowledged/)
        .waitFor({ timeout: 10_000 });
      await driver.screenshot('offer');

      await offer.getByRole('button', { name: 'Accept' }).click();
      const delivery = d.getByRole('region', { name: /^Delivery #/ });
      await delivery.waitFor();
      await expect
        .poll(() => delivery.getByRole('listitem').first().getAttribute('data-state'))
        .toBe('current');
      await driver.screenshot('to-the-store');

      // Too early: the kitchen is still at it. The server says so and the driver sees why.
      driver.expectHttpError(409, 'POST', /\/driver\/orders\/[^/]+\/picked-up$/);
      await delivery.getByRole('button', { name: 'Picked up' }).click();
      await delivery
        .getByRole('alert')
        .getByText(/cannot become picked_up/)
        .waitFor();
      await driver.screenshot('picked-up-too-early');

      // The customer sees the driver, who is on the way to the store, move on the map.
      await c.getByText('Lena Fischer').first().waitFor();
      const driverMarker = c.locator('.leaflet-marker-icon[title^="Driver"]');
      const homeMarker = c.locator('.leaflet-marker-icon[title^="Delivery:"]');
      await waitForMove(driverMarker, homeMarker);
      await customer.screenshot('tracking-driver-to-store');

      // The admin watches the fleet: the driver online, the order under way.
      await admin.nav('Fleet');
      await expect.poll(() => admin.page.getByTestId('fleet-drivers').textContent()).toBe('1');
      await expect.poll(() => admin.page.getByTestId('fleet-orders').textContent()).toBe('1');
      await admin.page.locator('.leaflet-marker-icon[title^="Lena Fischer"]').waitFor();
      await admin.screenshot('fleet');

      // The food is ready; the driver picks it up and rides to the customer.
      await m.getByRole('button', { name: 'Mark ready' }).click();
      await m.getByText('Driver assigned, on the way to you.').waitFor();
      await merchant.screenshot('ready');
      await expect.poll(() => delivery.textContent()).toContain('The order is ready');
      await delivery.getByRole('button', { name: 'Picked up' }).click();
      await expect
        .poll(() => delivery.getByRole('listitem').nth(2).getAttribute('data-state'))
        .toBe('current');
      await driver.screenshot('to-the-customer');

      await c.getByText('On the way').first().waitFor();
      await waitForMove(driverMarker, homeMarker);
      await customer.screenshot('tracking-on-the-way');

      // Delivered; the driver rates the customer.
      await delivery.getByRole('button', { name: 'Delivered' }).click();
      const rate = d.getByRole('heading', { name: 'Rate the customer' });
      await rate.waitFor();
      await d.getByRole('radio', { name: '5 stars' }).check({ force: true });
      await d.getByRole('button', { name: 'Send rating' }).click();
      await d.getByRole('heading', { name: 'You rated the customer' }).waitFor();
      // One rating card, nothing left of the delivery card it replaced.
      expect(await d.getByRole('heading', { name: 'You rated the customer' }).count()).toBe(1);
      expect(await d.getByText('Loading ratings…').count()).toBe(0);
      expect(await d.getByRole('region', { name: /^Delivery #/ }).count()).toBe(0);
      await driver.screenshot('delivered-rated');

      // The customer sees it delivered, every step once, and rates driver and store.
      await c.getByRole('heading', { name: 'How was it?' }).waitFor({ timeout: 15_000 });
      expectTimeline(await timelineOf(c), ALL_STEPS);
      await c.getByRole('radio', { name: '5 stars' }).first().check({ force: true });
      await c.getByRole('radio', { name: '4 stars' }).nth(1).check({ force: true });
      await c.getByRole('button', { name: 'Send rating' }).click();
      await c.getByRole('heading', { name: 'Thanks for your rating' }).waitFor();
      await customer.screenshot('delivered-rated');

      // The admin finds the order, delivered, in the orders table.
      await admin.nav('Orders');
      const row = admin.page.locator(`tr[data-order-id="${orderId}"]`);
      await row.waitFor();
      await expect.poll(() => row.textContent()).toContain('Delivered');
      await admin.page.getByLabel('Status').selectOption('delivered');
      await row.waitFor();
      await admin.screenshot('orders');
      await admin.nav('Drivers');
      await admin.page.getByRole('table', { name: 'Drivers' }).waitFor();
      await admin.screenshot('drivers');
      await admin.nav('Dashboard');
      await admin.page.getByRole('img', { name: 'Orders by status' }).waitFor();
      await admin.screenshot('dashboard-after');

      // The driver's earnings and history; then off duty.
      await driver.nav('Earnings');
      await d.getByText('Trattoria Neckarblick').first().waitFor();
      await expect.poll(() => d.getByTestId('earnings-total').textContent()).not.toBe('€0.00');
      await driver.screenshot('earnings');
      await driver.nav(/Deliveries/);
      await d.getByRole('button', { name: 'Go offline' }).click();
      await d.getByRole('heading', { name: 'You are offline' }).waitFor();

      expectNoProblems(...people);
    } finally {
      await Promise.all(people.map((p) => p.close()));
    }
  });

  it('keeps the tracking timeline whole across a reload and a dropped connection', async () => {
    const shots = new Shots('reload');
    const base = platform.baseUrl;

    // Set up through the API: an order at the bakery, confirmed, with driver2 on it.
    const [customerAuth, merchantAuth, driverAuth, otherDriver] = await Promise.all([
      api.signIn('customer2@demo.local'),
      api.signIn('merchant2@demo.local'),
      api.signIn('driver2@demo.local'),
      api.signIn('driver1@demo.local'),
    ]);
    await api.call('POST', '/driver/go-offline', otherDriver.token);
    const { merchant: bakery, menu } = await api.merchantNamed('Backhaus Neckarkorn');
    const item = menu.find((i) => i.isAvailable)!;
    const home = { lat: 49.4047, lng: 8.6862 };
    const placed = await api.call(
      'POST',
      '/orders',
      customerAuth.token,
      {
        merchantId: bakery.id,
        items: [{ menuItemId: item.id, quantity: 2 }],
        deliveryAddress: 'Kaiserstraße 20, 69115 Heidelberg',
        deliveryLat: home.lat,
        deliveryLng: home.lng,
        tipCents: 150,
      },
      { 'x-idempotency-key': randomUUID() },
    );
    const orderId = (placed as { order: { id: string } }).order.id;

    // The customer follows it on a phone. Every socket goes through here, so the line can be cut.
    const customer = await Person.open(browser, base, 'customer', shots, {
      viewport: PHONE,
      mobile: true,
    });
    let networkDown = false;
    let cut: (() => Promise<void>) | null = null;
    await customer.page.routeWebSocket(/\/ws$/, (ws) => {
      if (networkDown) {
        void ws.close({ code: 4000, reason: 'network down' });
        return;
      }
      ws.connectToServer();
      cut = () => ws.close({ code: 4000, reason: 'network down' });
    });
    try {
      await customer.signIn('customer2@demo.local');
      const c = customer.page;
      await c.goto(`${base}/orders/${orderId}`);
      await c.getByText('Order placed').first().waitFor();

      const driverStart = { lat: 49.409, lng: 8.6938 };
      await api.order(merchantAuth.token, `/merchant/orders/${orderId}/confirm`);
      await api.call('POST', '/driver/go-online', driverAuth.token, driverStart);
      const offer = await api.waitForOffer(driverAuth.token);
      expect(offer.orderId).toBe(orderId);
      await api.call('POST', `/driver/offers/${offer.id}/accept`, driverAuth.token);
      await api.order(merchantAuth.token, `/merchant/orders/${orderId}/preparing`);
      await api.order(merchantAuth.token, `/merchant/orders/${orderId}/ready`);

      // The driver rides to the bakery, reporting as it goes.
      const store = { lat: bakery.lat, lng: bakery.lng };
      const ride = async (
        from: { lat: number; lng: number },
        to: { lat: number; lng: number },
        steps: number,
      ) => {
        for (let i = 1; i <= steps; i++) {
          const f = i / steps;
          await api.call('POST', '/driver/location', driverAuth.token, {
            lat: from.lat + (to.lat - from.lat) * f,
            lng: from.lng + (to.lng - from.lng) * f,
          });
          await sleep(1_100); // the order channel carries at most one position a second
        }
      };
      await ride(driverStart, store, 3);
      await c.getByText('Mehmet Yilmaz').first().waitFor();
      await api.order(driverAuth.token, `/driver/orders/${orderId}/picked-up`);
      const half = { lat: (store.lat + home.lat) / 2, lng: (store.lng + home.lng) / 2 };
      await ride(store, half, 2);
      await c.getByText('On the way').first().waitFor();
      await expect.poll(async () => (await timelineOf(c)).filter((e) => e.done).length).toBe(6);
      expectTimeline(await timelineOf(c), UNTIL_PICKED_UP);
      await customer.screenshot('before-reload');

      // Reload mid-delivery: the same timeline, rebuilt from the order and the live channel.
      await c.reload();
      await c.getByText('On the way').first().waitFor();
      await c.getByText('Live', { exact: true }).waitFor();
      await expect.poll(async () => (await timelineOf(c)).filter((e) => e.done).length).toBe(6);
      expectTimeline(await timelineOf(c), UNTIL_PICKED_UP);
      const driverMarker = c.locator('.leaflet-marker-icon[title^="Driver"]');
      const homeMarker = c.locator('.leaflet-marker-icon[title^="Delivery:"]');
      await driverMarker.waitFor();
      const moving = waitForMove(driverMarker, homeMarker);
      await ride(half, home, 2);
      await moving;
      await customer.screenshot('after-reload');

      // The line drops; meanwhile the driver delivers. Back online, the replay catches up.
      networkDown = true;
      expect(cut).not.toBeNull();
      await cut!();
      await c.getByText('Reconnecting…').waitFor();
      await api.order(driverAuth.token, `/driver/orders/${orderId}/delivered`);
      await sleep(500);
      networkDown = false;
      await c.evaluate(() => window.dispatchEvent(new Event('online')));
      await c.getByRole('heading', { name: 'How was it?' }).waitFor({ timeout: 20_000 });
      expectTimeline(await timelineOf(c), ALL_STEPS);
      await customer.screenshot('delivered-after-drop');

      // And once more after a reload: still each step once.
      await c.reload();
      await c.getByRole('heading', { name: 'How was it?' }).waitFor();
      expectTimeline(await timelineOf(c), ALL_STEPS);

      expect((await api.getOrder(customerAuth.token, orderId)).status).toBe('delivered');
      await api.call('POST', '/driver/go-offline', driverAuth.token);
      expectNoProblems(customer);
    } finally {
      await customer.close();
    }
  });
  it('lets an operator reassign and cancel orders no driver takes', async () => {
    const shots = new Shots('admin');
    const base = platform.baseUrl;
    const [customerAuth, merchantAuth, sophie] = await Promise.all([
      api.signIn('customer1@demo.local'),
      api.signIn('merchant3@demo.local'),
      api.signIn('driver3@demo.local'),
    ]);
    // Sophie is online, but beyond every matching ring (over 10 km north): no offer reaches her.
    await api.call('POST', '/driver/go-online', sophie.token, { lat: 49.53, lng: 8.694 });
    const { merchant: market, menu } = await api.merchantNamed('Weststadt Frischemarkt');
    const item = menu.find((i) => i.isAvailable)!;
    const place = async () => {
      const placed = await api.call(
        'POST',
        '/orders',
        customerAuth.token,
        {
          merchantId: market.id,
          items: [{ menuItemId: item.id, quantity: 1 }],
          deliveryAddress: 'Plöck 45, 69117 Heidelberg',
          deliveryLat: 49.4092,
          deliveryLng: 8.699,
        },
        { 'x-idempotency-key': randomUUID() },
      );
      const id = (placed as { order: { id: string } }).order.id;
      await api.order(merchantAuth.token, `/merchant/orders/${id}/confirm`);
      return id;
    };

    const [admin, driver] = await Promise.all([
      Person.open(browser, base, 'admin', shots),
      Person.open(browser, base, 'driver', shots, { viewport: PHONE, mobile: true }),
    ]);
    try {
      await Promise.all([admin.signIn('admin@demo.local'), driver.signIn('driver3@demo.local')]);
      const a = admin.page;
      const d = driver.page;
      await d.getByRole('heading', { name: 'You are online' }).waitFor();
      await admin.nav('Fleet');
      await a.getByText('Live', { exact: true }).waitFor();

      const [stuck, unwanted] = [await place(), await place()];
      const short = (id: string) => `#${id.slice(0, 8)}`;

      // Nobody within reach: both are flagged, and the fleet view says so as it happens.
      const alerts = a.getByRole('heading', { name: 'Needs attention' }).locator('..');
      await expect
        .poll(() => alerts.textContent(), { timeout: 20_000 })
        .toMatch(new RegExp(`${short(stuck)}.*no driver found`));
      // Each order is flagged at its own retry step (backoff 1, 2, 4, 8 s...), so the second
      // may come several seconds after the first.
      await expect.poll(() => alerts.textContent(), { timeout: 20_000 }).toContain(short(unwanted));
      await admin.screenshot('fleet-needs-attention');

      await a.getByRole('link', { name: 'Reassign or cancel in Orders' }).click();
      await expect.poll(() => a.getByLabel('Needs attention only').isChecked()).toBe(true);
      const rowOf = (id: string) => a.locator(`tr[data-order-id="${id}"]`);
      await rowOf(stuck).waitFor();
      await rowOf(unwanted).waitFor();
      await admin.screenshot('orders-needing-attention');

      // Reassign the first to Sophie: it leaves the list, and her phone shows the delivery.
      await a.getByRole('button', { name: `Reassign order ${short(stuck)}` }).click();
      const form = a.getByRole('form', { name: `Reassign order ${short(stuck)}` });
      await form.getByLabel('New driver').selectOption({ label: 'Sophie Wagner · car · 0 active' });
      await form.getByLabel('Reason (optional)').fill('Nearest driver out of range');
      await admin.screenshot('reassign-form');
      await form.getByRole('button', { name: 'Reassign' }).click();
      await rowOf(stuck).waitFor({ state: 'detached' });
      expect((await api.getOrder(customerAuth.token, stuck)).driverId).toBe(sophie.userId);
      await d.getByText(`An operator assigned order ${short(stuck)} to you.`).waitFor();
      await d.getByRole('region', { name: `Delivery ${short(stuck)}` }).waitFor();
      await driver.screenshot('assigned-by-operator');

      // Cancel the other one, with a reason the customer will see.
      await a.getByRole('button', { name: `Cancel order ${short(unwanted)}` }).click();
      const cancel = a.getByRole('form', { name: `Cancel order ${short(unwanted)}` });
      await cancel.getByLabel(/Reason/).fill('The market closed early');
      await cancel.getByRole('button', { name: 'Cancel the order' }).click();
      await a.getByLabel('Needs attention only').uncheck();
      await expect.poll(() => rowOf(unwanted).textContent()).toContain('Cancelled');
      await expect.poll(() => rowOf(unwanted).textContent()).toContain('The market closed early');
      await admin.screenshot('orders-after');
      const cancelled = await api.getOrder(customerAuth.token, unwanted);
      expect(cancelled.status).toBe('cancelled');

      await d.getByRole('button', { name: 'Go offline' }).click();
      await d.getByRole('heading', { name: 'You are offline' }).waitFor();
      expectNoProblems(admin, driver);
    } finally {
      await Promise.all([admin.close(), driver.close()]);
    }
  });
});
