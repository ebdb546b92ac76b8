import type { Redis } from 'ioredis';
import type { SessionData, SessionStore } from '../ports.ts';
import { luaScript, ttlArg } from './script.ts';

// KEYS: session, user set. ARGV: json, ttl, session key prefix, token hash.
// Members whose session has expired are pruned here, so a user's set cannot grow without bound.
const create = luaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for _, h in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[3] .. h) == 0 then redis.call('SREM', KEYS[2], h) end
end
redis.call('SADD', KEYS[2], ARGV[4])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
`);

// KEYS: session. ARGV: user set prefix, token hash.
const remove = luaScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. cjson.decode(v).userId, ARGV[2])
return 1
`);

// KEYS: user set. ARGV: session key prefix. Returns how many live sessions were revoked.
const removeAll = luaScript(`
local n = 0
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do n = n + redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1])
return n
`);

export class RedisSessionStore implements SessionStore {
  private readonly sessionPrefix: string;
  private readonly userPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.sessionPrefix = `${prefix}session:`;
    this.userPrefix = `${prefix}user-sessions:`;
  }

  async create(tokenHash: string, session: SessionData, ttlMs: number): Promise<void> {
    const { userId, role, createdAt, expiresAt } = session;
    const json = JSON.stringify({ userId, role, createdAt, expiresAt });
    await create(
      this.redis,
      [this.sessionPrefix + tokenHash, this.userPrefix + userId],
      [json, ttlArg(ttlMs), this.sessionPrefix, tokenHash],
    );
  }

  async get(tokenHash: string): Promise<SessionData | null> {
    const json = await this.redis.get(this.sessionPrefix + tokenHash);
    return json === null ? null : (JSON.parse(json) as SessionData);
  }

  async delete(tokenHash: string): Promise<void> {
    await remove(this.redis, [this.sessionPrefix + tokenHash], [this.userPrefix, tokenHash]);
  }

  async deleteAllForUser(userId: string): Promise<number> {
    return Number(await removeAll(this.redis, [this.userPrefix + userId], [this.sessionPrefix]));
  }
}
