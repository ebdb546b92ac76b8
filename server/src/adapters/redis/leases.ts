import type { Redis } from 'ioredis';
import type { LeaseManager } from '../ports.ts';
import { luaScript, ttlArg } from './script.ts';

// Compare-and-set on the holder, so a holder whose lease expired cannot touch its successor's.
const acquire = luaScript(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

const release = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export class RedisLeaseManager implements LeaseManager {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.prefix = `${prefix}lease:`;
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await acquire(this.redis, [this.prefix + name], [holder, ttlArg(ttlMs)])) === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await release(this.redis, [this.prefix + name], [holder]);
  }

  holder(name: string): Promise<string | null> {
    return this.redis.get(this.prefix + name);
  }
}
