import type { Redis } from 'ioredis';
import type { EventLog, LoggedEvent } from '../ports.ts';
import { LUA_NOW, luaScript, ttlArg } from './script.ts';

const EVENT_ID = /^\d+-\d+$/;

// KEYS: stream. ARGV: payload, retention ms, and the id of an entry the new one replaces (or
// ''). The trim threshold uses the server's clock, the one that stamps the ids. "~" trims whole
// nodes only, so at least the retention is kept (often more); the PEXPIRE makes an idle stream
// vanish once its newest event is older than that.
const append = luaScript(`${LUA_NOW}
local id = redis.call('XADD', KEYS[1], 'MINID', '~', now - tonumber(ARGV[2]), '*', 'p', ARGV[1])
if ARGV[3] ~= '' then redis.call('XDEL', KEYS[1], ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return id
`);

export class RedisEventLog implements EventLog {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.prefix = `${prefix}events:`;
  }

  async append(
    stream: string,
    payload: string,
    retentionMs: number,
    options: { replaces?: string } = {},
  ): Promise<string> {
    const replaces = options.replaces ?? '';
    if (replaces !== '' && !EVENT_ID.test(replaces)) {
      throw new RangeError(`invalid event id ${replaces}`);
    }
    return String(
      await append(this.redis, [this.prefix + stream], [payload, ttlArg(retentionMs), replaces]),
    );
  }

  async readAfter(stream: string, afterId: string | null, limit: number): Promise<LoggedEvent[]> {
    if (afterId !== null && !EVENT_ID.test(afterId)) {
      throw new RangeError(`invalid event id ${afterId}`);
    }
    if (limit <= 0) return [];
    const start = afterId === null ? '-' : `(${afterId}`;
    const rows = await this.redis.xrange(this.prefix + stream, start, '+', 'COUNT', limit);
    return rows.map(([id, fields]) => ({ id, payload: fields[fields.indexOf('p') + 1] ?? '' }));
  }
}
