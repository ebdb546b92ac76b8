import type { Redis } from 'ioredis';
import type { Cache } from '../ports.ts';
import { ttlArg } from './script.ts';

export class RedisCache implements Cache {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.prefix = `${prefix}cache:`;
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', ttlArg(ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
