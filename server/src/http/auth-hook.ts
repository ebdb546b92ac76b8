import type { Role } from '@delivery/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService, Session } from '../auth/auth.service.ts';
import { DomainError } from '../errors.ts';

export const SESSION_COOKIE = 'sid';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: a list of roles, 'any' signed-in user, or 'public' (default). */
    auth?: readonly Role[] | 'any' | 'public';
  }
  interface FastifyRequest {
    session: Session | null;
  }
}

function tokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || null;
  return request.cookies[SESSION_COOKIE] ?? null;
}

/** Resolves the session before the body is even parsed, then enforces the route's `auth`. */
export function registerAuthHook(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const token = tokenOf(request);
    request.session = token ? await auth.resolve(token) : null;
    const rule = request.routeOptions.config.auth ?? 'public';
    if (rule === 'public') return;
    if (!request.session) throw new DomainError('UNAUTHENTICATED', 'Sign in first');
    if (rule !== 'any' && !rule.includes(request.session.role)) {
      throw new DomainError('FORBIDDEN', `This needs the role ${rule.join(' or ')}`);
    }
  });
}

/** The caller's session on a route whose `auth` rule guarantees one. */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new DomainError('UNAUTHENTICATED', 'Sign in first');
  return request.session;
}
