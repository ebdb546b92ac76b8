import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MemoryRateLimiter } from '../adapters/memory/rate-limiter.ts';
import type { RateLimiter, RateWindow } from '../adapters/ports.ts';
import type { Config, RateRule } from '../config.ts';
import type { Clock } from '../platform/clock.ts';
import { errorBody } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A limit of its own on top of the per-IP one, checked once the body is validated. */
    rateLimit?: 'login' | 'register';
  }
}

export interface RateLimitDeps {
  /** Shared by every instance (Redis in real mode), so a limit holds across the fleet. */
  limiter: RateLimiter;
  clock: Clock;
  rules: Config['rateLimits'];
  log: FastifyBaseLogger;
}

/** After a limiter failure, count in-process for this long instead of waiting on Redis. */
const BACKOFF_MS = 5_000;

/** Keys hold a digest, so no e-mail address or IP is stored in Redis in clear. */
const digest = (subject: string) =>
  createHash('sha256').update(subject).digest('base64url').slice(0, 27);

/** The subject a route-specific rule counts by. */
function subjectOf(rule: 'login' | 'register', request: FastifyRequest): string {
  if (rule === 'register') return request.ip;
  const { email } = request.body as { email: string };
  return `${request.ip} ${email.toLowerCase()}`;
}

/**
 * Fixed-window limits: per IP on every `/api/` request (before the session is even looked up),
 * and per route on login (IP + e-mail) and registration (IP). Over the limit the request gets
 * 429 `RATE_LIMITED` with `Retry-After`. When the shared limiter fails, the process counts on
 * its own (limits then hold per instance) rather than letting everything through.
 */
export function registerRateLimits(app: FastifyInstance, deps: RateLimitDeps): void {
  const { limiter, clock, rules, log } = deps;
  const local = new MemoryRateLimiter(clock);
  let sharedDownUntil = 0;

  async function count(key: string, windowMs: number): Promise<RateWindow> {
    if (clock.now() >= sharedDownUntil) {
      try {
        return await limiter.hit(key, windowMs);
      } catch (err) {
        sharedDownUntil = clock.now() + BACKOFF_MS;
        log.warn({ err }, 'rate limiter unavailable; counting in this process');
      }
    }
    return local.hit(key, windowMs);
  }

  /** Counts the hit; over the limit, answers 429 and returns true. */
  async function refuse(
    reply: FastifyReply,
    name: string,
    rule: RateRule,
    subject: string,
  ): Promise<boolean> {
    const window = await count(`${name}:${digest(subject)}`, rule.windowMs);
    if (window.count <= rule.max) return false;
    const retryAfter = Math.max(1, Math.ceil(window.resetInMs / 1000));
    void reply
      .code(429)
      .header('retry-after', String(retryAfter))
      .send(
        errorBody('RATE_LIMITED', `Too many requests; retry in ${retryAfter} s`, {
          retryAfterSeconds: retryAfter,
        }),
      );
    return true;
  }

  const api = rules.api;
  if (api) {
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/api/')) return;
      if (await refuse(reply, 'api', api, request.ip)) return reply;
    });
  }

  app.addHook('preHandler', async (request, reply) => {
    const name = request.routeOptions.config.rateLimit;
    const rule = name ? rules[name] : null;
    if (!name || !rule) return;
    if (await refuse(reply, name, rule, subjectOf(name, request))) return reply;
  });
}
