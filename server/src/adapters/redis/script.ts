import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptArg = string | number;

/** Lua shared by several scripts: the server's clock in ms (the same clock PX/PEXPIRE use). */
export const LUA_NOW =
  "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

/** A Lua script run by EVALSHA, falling back to EVAL once when the server does not know it yet. */
export function luaScript(
  lua: string,
): (redis: Redis, keys: string[], args: ScriptArg[]) => Promise<unknown> {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}

/** PX and PEXPIRE want a positive integer. */
export const ttlArg = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs));
