import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';

/** The origin the CSP must allow images from for the map tiles (`{s}` subdomains become `*`). */
export function tileOrigin(tileUrl: string): string | null {
  if (tileUrl === 'none') return null;
  const url = new URL(tileUrl.replaceAll('{s}', 'subdomain'));
  return url.origin.replace('subdomain', '*');
}

/**
 * Security headers on every response (helmet) and the CORS allow-list. The CSP fits the web
 * app and the OpenAPI UI: scripts, styles, fonts and connections (including the WebSocket) from
 * this origin only; images also from the map tile host. Inline styles stay allowed because the
 * map library positions its tiles and markers with them. HSTS and upgrade-insecure-requests
 * only when the site runs on HTTPS (`COOKIE_SECURE`), so a plain-HTTP demo keeps working.
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config) {
  const tiles = tileOrigin(config.mapTileUrl);
  const https = config.cookieSecure;
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:', ...(tiles ? [tiles] : [])],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // Tiles come from another origin without CORP headers; requiring them would blank the map.
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });

  // No origins configured: no CORS headers at all, so browsers allow same-origin calls only.
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-idempotency-key', 'x-request-id'],
    exposedHeaders: ['retry-after', 'x-request-id', 'idempotent-replayed'],
    maxAge: 600,
  });
}
