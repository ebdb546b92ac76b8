import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web app's production build (`npm run build`). */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths that belong to the API and operations, never to the web app. */
const RESERVED = /^\/(api|ws|docs|health|metrics)(\/|$)/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Delivery platform</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1e293b}
code{background:#f1f5f9;padding:.1rem .3rem;border-radius:.25rem}</style></head>
<body><h1>The web app is not built yet</h1>
<p>The API is running: see <a href="/docs">/docs</a> and <a href="/health/ready">/health/ready</a>.</p>
<p>Build the web app with <code>npm run build</code> and restart the server
(<code>npm start</code> builds it by itself when it is missing), or run
<code>npm run dev:web</code> for the development server with hot reload.</p>
</body></html>`;

/** A page a browser navigates to: `/`, or an HTML request for a path that names no file. */
function isPage(request: FastifyRequest, urlPath: string): boolean {
  if (urlPath === '/') return true;
  const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
  return !last.includes('.') && (request.headers.accept ?? '').includes('text/html');
}

/** The file under `root` a URL path names, if there is one. */
function fileFor(root: string, urlPath: string): string | null {
  const rel = urlPath.replace(/^\/+/, '');
  if (!rel) return null;
  const abs = path.resolve(root, rel);
  if (!abs.startsWith(root)) return null;
  try {
    return statSync(abs).isFile() ? rel : null;
  } catch {
    return null;
  }
}

/**
 * Serves the web app's build from the API server: its files, and `index.html` for any other
 * page a browser asks for (client-side routes), leaving the API, `/ws`, `/docs`, `/health`
 * and `/metrics` alone. Without a build it says at `/` how to make one.
 */
export async function registerWebApp(
  app: FastifyInstance,
  { root = WEB_DIST }: { root?: string } = {},
): Promise<void> {
  const dist = path.resolve(root) + path.sep;
  const built = existsSync(path.join(dist, 'index.html'));
  if (built) await app.register(fastifyStatic, { root: dist, serve: false });

  const page = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { maxAge: 0 });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(request.url.split('?', 1)[0] ?? '/');
    } catch {
      return reply.callNotFound();
    }
    if (RESERVED.test(urlPath)) return reply.callNotFound();
    if (!built) {
      if (isPage(request, urlPath)) return reply.type('text/html').send(NOT_BUILT);
      return reply.callNotFound();
    }
    const file = fileFor(dist, urlPath);
    if (file === 'index.html') return page(reply);
    if (file) {
      // Vite names built assets by content hash: they never change under the same name.
      const hashed = file.startsWith('assets/');
      return reply.sendFile(file, dist, { maxAge: hashed ? '1y' : 0, immutable: hashed });
    }
    if (isPage(request, urlPath)) return page(reply);
    return reply.callNotFound();
  });
}
