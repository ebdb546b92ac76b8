import type { Redis } from 'ioredis';
import type { RateLimiter, RateWindow } from '../ports.ts';
import { luaScript, ttlArg } from './script.ts';

// KEYS: counter. ARGV: window ms. The first hit starts the window; one round trip, atomic.
const hit = luaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}
`);

export class RedisRateLimiter implements RateLimiter {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.prefix = `${prefix}ratelimit:`;
  }

  async hit(key: string, windowMs: number): Promise<RateWindow> {
    const [count, ttl] = (await hit(this.redis, [this.prefix + key], [ttlArg(windowMs)])) as [
      number,
      number,
    ];
    return { count: Number(count), resetInMs: Number(ttl) };
  }
}
