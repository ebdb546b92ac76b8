/**
 * The end-to-end suite's tools: a platform of its own (`startTestPlatform` with the demo data
 * and the built web app), Debian's Chromium driven by playwright-core, one browser context per
 * person, and guards that fail a test on console errors, unexpected HTTP errors and any request
 * leaving the machine.
 */
import {
  AuthResponse,
  MenuResponse,
  MerchantList,
  OfferResponse,
  OrderResponse,
  type Offer,
  type Order,
} from '@delivery/contracts';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/platform.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** Embedded (PGlite, in-process adapters) or real (PostgreSQL and Redis from the environment). */
export const MODE = process.env.DATABASE_URL ? 'real' : 'embedded';
export const SHOTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e', MODE);
export const DEMO_PASSWORD = 'demo1234';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 900 } as const;

export async function startPlatform(): Promise<TestPlatform> {
  return startTestPlatform({
    SEED_DEMO: 'true',
    // Offers are matched quickly; the 30 s answer window stays, the countdown shows it.
    DISPATCH_TICK_MS: '250',
    // An order nobody can take is flagged for an operator after seconds, not minutes.
    DISPATCH_FLAG_AFTER_MS: '4000',
    DISPATCH_RETRY_MAX_MS: '1000',
  });
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

interface ExpectedError {
  status: number;
  method: string;
  path: RegExp;
}

/**
 * One person in their own browser context (own storage, own socket). Everything that goes wrong
 * in the page is collected in `problems`: console errors, page errors, HTTP errors the test did
 * not announce with `expectHttpError`, and requests to any host but the test server (blocked).
 */
export class Person {
  readonly problems: string[] = [];
  private readonly expected: ExpectedError[] = [];

  private constructor(
    readonly name: string,
    readonly base: string,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly shots: Shots,
  ) {}

  static async open(
    browser: Browser,
    base: string,
    name: string,
    shots: Shots,
    opts: { viewport?: { width: number; height: number }; mobile?: boolean } = {},
  ): Promise<Person> {
    const viewport = opts.viewport ?? DESKTOP;
    const context = await browser.newContext({
      viewport,
      ...(opts.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      locale: 'en-GB',
      timezoneId: 'Europe/Berlin',
    });
    // No map tiles: nothing may leave the machine (the maps draw markers and lines anyway).
    await context.addInitScript(() => localStorage.setItem('delivery.mapTiles', 'none'));
    const page = await context.newPage();
    const person = new Person(name, base, context, page, shots);
    const own = new URL(base).host;
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.host === own || url.protocol === 'data:' || url.protocol === 'blob:') {
        return route.fallback();
      }
      person.problems.push(`request to another host blocked: ${url.href}`);
      return route.abort('blockedbyclient');
    });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // The browser's own line for an HTTP error; the response check below judges those.
      if (/Failed to load resource: the server responded with a status of \d{3}/.test(m.text())) {
        return;
      }
      person.problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => person.problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() < 400) return;
      const method = r.request().method();
      const { pathname } = new URL(r.url());
      const i = person.expected.findIndex(
        (e) => e.status === r.status() && e.method === method && e.path.test(pathname),
      );
      if (i >= 0) person.expected.splice(i, 1);
      else person.problems.push(`unexpected HTTP ${r.status()} for ${method} ${pathname}`);
    });
    return person;
  }

  /** A deliberate failure the test provokes: the next such response is not a problem. */
  expectHttpError(status: number, method: string, pathPattern: RegExp): void {
    this.expected.push({ status, method, path: pathPattern });
  }

  async signIn(email: string): Promise<void> {
    await this.page.goto(`${this.base}/login`);
    await this.page.getByRole('button', { name: new RegExp(email.replace('.', '\\.')) }).click();
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.page.waitForURL((url) => !url.pathname.startsWith('/login'));
  }

  /** Follows a link of the top bar's main navigation. */
  async nav(name: string | RegExp): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name, exact: typeof name === 'string' })
      .click();
  }

  /** A full-page screenshot under test-results/e2e/<mode>/, numbered in the order taken. */
  async screenshot(label: string): Promise<string> {
    const file = this.shots.path(`${this.name}-${label}`);
    // From the top: a sticky header would otherwise be drawn where the page was scrolled to.
    await this.page.evaluate(() => window.scrollTo(0, 0));
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Numbers screenshots across all people of a test, so the folder reads as the story. */
export class Shots {
  private n = 0;
  readonly taken: string[] = [];
  constructor(private readonly prefix: string) {
    mkdirSync(SHOTS_DIR, { recursive: true });
  }
  path(label: string): string {
    this.n += 1;
    const file = path.join(
      SHOTS_DIR,
      `${this.prefix}-${String(this.n).padStart(2, '0')}-${label}.png`,
    );
    this.taken.push(file);
    return file;
  }
}

/** Where a map marker sits relative to another one, in pixels: changes only when one moves. */
export async function offsetBetween(a: Locator, b: Locator): Promise<{ dx: number; dy: number }> {
  const [ra, rb] = await Promise.all([a.boundingBox(), b.boundingBox()]);
  if (!ra || !rb) throw new Error('marker not visible');
  return { dx: Math.round(ra.x - rb.x), dy: Math.round(ra.y - rb.y) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 250,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The public API, for the parts of a scenario that are set-up rather than under test. */
export class Api {
  constructor(readonly base: string) {}

  async call(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: {
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as unknown) : null;
  }

  async signIn(
    email: string,
  ): Promise<{ token: string; userId: string; merchantId: string | null }> {
    const auth = AuthResponse.parse(
      await this.call('POST', '/auth/login', undefined, { email, password: DEMO_PASSWORD }),
    );
    return { token: auth.token, userId: auth.user.id, merchantId: auth.user.merchantId };
  }

  async merchantNamed(name: string) {
    const list = MerchantList.parse(
      await this.call('GET', `/merchants?q=${encodeURIComponent(name)}`),
    );
    const merchant = list.items.find((m) => m.name === name);
    if (!merchant) throw new Error(`no merchant ${name}`);
    const menu = MenuResponse.parse(await this.call('GET', `/merchants/${merchant.id}/menu`));
    return { merchant, menu: menu.items };
  }

  async order(token: string, path: string, body?: unknown): Promise<Order> {
    return OrderResponse.parse(await this.call('POST', path, token, body ?? {})).order;
  }

  async getOrder(token: string, id: string): Promise<Order> {
    return OrderResponse.parse(await this.call('GET', `/orders/${id}`, token)).order;
  }

  async waitForOffer(token: string, timeoutMs = 15_000): Promise<Offer> {
    return eventually(
      'an offer',
      async () =>
        OfferResponse.parse(await this.call('GET', '/driver/offers', token)).offer ?? undefined,
      timeoutMs,
    );
  }
}
