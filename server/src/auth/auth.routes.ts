import {
  AuthResponse,
  LoginBody,
  LogoutAllResponse,
  MeResponse,
  RegisterBody,
} from '@delivery/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SESSION_COOKIE, sessionOf } from '../http/auth-hook.ts';
import type { AuthService } from './auth.service.ts';

export interface AuthRoutesOptions {
  auth: AuthService;
  cookieSecure: boolean;
}

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (
  app,
  { auth, cookieSecure },
) => {
  const cookie = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookieSecure,
    maxAge: Math.floor(auth.sessionTtlMs / 1000),
  };

  app.post(
    '/register',
    {
      config: { rateLimit: 'register' },
      schema: { tags: ['auth'], body: RegisterBody, response: { 201: AuthResponse } },
    },
    async (request, reply) => {
      const result = await auth.register(request.body);
      return reply.code(201).setCookie(SESSION_COOKIE, result.token, cookie).send(result);
    },
  );

  app.post(
    '/login',
    {
      config: { rateLimit: 'login' },
      schema: { tags: ['auth'], body: LoginBody, response: { 200: AuthResponse } },
    },
    async (request, reply) => {
      const result = await auth.login(request.body);
      return reply.setCookie(SESSION_COOKIE, result.token, cookie).send(result);
    },
  );

  app.post(
    '/logout',
    { config: { auth: 'any' }, schema: { tags: ['auth'], response: { 204: z.null() } } },
    async (request, reply) => {
      await auth.logout(sessionOf(request));
      return reply.code(204).clearCookie(SESSION_COOKIE, { path: '/' }).send(null);
    },
  );

  app.post(
    '/logout-all',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['auth'],
        description: 'Signs the caller out on every device: revokes all of their sessions.',
        response: { 200: LogoutAllResponse },
      },
    },
    async (request, reply) => {
      const revoked = await auth.logoutAll(sessionOf(request));
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).send({ revoked });
    },
  );

  app.get(
    '/me',
    { config: { auth: 'any' }, schema: { tags: ['auth'], response: { 200: MeResponse } } },
    async (request) => ({ user: await auth.me(sessionOf(request)) }),
  );
};
