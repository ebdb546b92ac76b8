import type { Redis } from 'ioredis';
import type { GeoEntry, GeoHit, GeoIndex, GeoPoint } from '../ports.ts';
import { LUA_NOW, luaScript, ttlArg } from './script.ts';

// Keys: the GEO set, a ZSET of member -> expiry ms ("deadlines") and one hash per entry with
// the exact lat, lng and at, and its deadline (`until`). Geo set members cannot expire, so
// every script first purges members whose deadline passed; the hash gets the same deadline
// via PEXPIREAT, so both agree.
// Scripts build hash keys from ARGV: fine on a single Redis, not on Redis Cluster.
const PURGE = `${LUA_NOW}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)) do
  redis.call('ZREM', KEYS[1], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
`;

// KEYS: geo, deadlines. ARGV: hash key prefix, then one argument per entry, "lng lat at ttl id"
// (the id last, so it may hold any character). Answers per entry: 1 stored, 0 older than the
// stored position (last write wins by `at`), -1 refused by GEOADD (coordinates out of range),
// without failing the others. One argument per entry rather than five: the client builds the
// command from a fifth of the pieces (ioredis joins them one by one).
//
// The deadline is renewed only when the stored one (`until` in the hash) is less than the TTL
// away, and then set 1/RENEW_SLACK of the TTL further: an entry lives at least its TTL and at
// most 1/60 more after its last update. A driver reporting every 3 s with the one-hour TTL
// renews once a minute instead of on every report: most updates are three commands here
// (HMGET, GEOADD, HSET) rather than five.
const RENEW_SLACK = 60;
const setMany = luaScript(`${LUA_NOW}
local out = {}
for i = 2, #ARGV do
  local lng, lat, at, ttl, id = string.match(ARGV[i], '^(%S+) (%S+) (%S+) (%S+) (.*)$')
  ttl = tonumber(ttl)
  local hash = ARGV[1] .. id
  local stored = redis.call('HMGET', hash, 'at', 'until')
  if stored[1] and tonumber(stored[1]) > tonumber(at) then
    out[#out + 1] = 0
  else
    local added = redis.pcall('GEOADD', KEYS[1], lng, lat, id)
    if type(added) == 'table' and added.err then
      out[#out + 1] = -1
    elseif stored[2] and tonumber(stored[2]) >= now + ttl then
      redis.call('HSET', hash, 'lat', lat, 'lng', lng, 'at', at)
      out[#out + 1] = 1
    else
      local deadline = now + ttl + math.floor(ttl / ${RENEW_SLACK})
      redis.call('HSET', hash, 'lat', lat, 'lng', lng, 'at', at, 'until', deadline)
      redis.call('PEXPIREAT', hash, deadline)
      redis.call('ZADD', KEYS[2], deadline, id)
      out[#out + 1] = 1
    end
  end
end
return out
`);

/** At most this many positions per script call: Redis runs nothing else while a script runs. */
const MAX_BATCH = 200;
/**
 * Positions are gathered this long before they go to Redis. Each call costs a write and a
 * wake-up on both sides whatever it carries: at 10,000 updates/s on two processes, batching
 * by event-loop turn made ~2,000 small calls a second; 5 ms makes at most 400 and took
 * server CPU from ~140 to ~110 µs and Redis from ~19 % to ~13 % of a core per 5,000
 * updates/s, for ~2.5 ms more ack latency on average (docs/benchmarks.md).
 */
export const GEO_BATCH_WINDOW_MS = 5;

interface PendingSet {
  id: string;
  /** The entry's script argument. */
  arg: string;
  resolve: (stored: boolean) => void;
  reject: (err: Error) => void;
}

// KEYS: geo, deadlines. ARGV: lng, lat, radius km, limit, hash key prefix.
// Returns {id, dist, lat, lng, at} as strings: Lua numbers would be truncated to integers.
const search = luaScript(`${PURGE}
local out = {}
local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2],
  'BYRADIUS', ARGV[3], 'km', 'ASC', 'COUNT', ARGV[4], 'WITHDIST')
for _, hit in ipairs(hits) do
  local f = redis.call('HMGET', ARGV[5] .. hit[1], 'lat', 'lng', 'at')
  if f[3] then table.insert(out, {hit[1], hit[2], f[1], f[2], f[3]}) end
end
return out
`);

const size = luaScript(`${PURGE}
return redis.call('ZCARD', KEYS[1])
`);

/**
 * Positions set within GEO_BATCH_WINDOW_MS (a burst of driver reports read off many sockets)
 * go to Redis as one script call, up to MAX_BATCH each: Redis spends ~33 µs on a script call
 * of one position and a fraction of that per position in a batch, and the process builds one
 * command instead of hundreds. Each caller still gets its own answer.
 */
export class RedisGeoIndex implements GeoIndex {
  private readonly geoKey: string;
  private readonly deadlinesKey: string;
  private readonly hashPrefix: string;
  private queued: PendingSet[] = [];

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly batchWindowMs = GEO_BATCH_WINDOW_MS,
  ) {
    this.geoKey = `${prefix}drivers:locations`;
    this.deadlinesKey = `${prefix}drivers:deadlines`;
    this.hashPrefix = `${prefix}driver:`;
  }

  set(id: string, entry: GeoEntry, ttlMs: number): Promise<boolean> {
    const arg = `${entry.lng} ${entry.lat} ${entry.at} ${ttlArg(ttlMs)} ${id}`;
    return new Promise((resolve, reject) => {
      if (this.queued.push({ id, arg, resolve, reject }) === 1) {
        setTimeout(() => this.flush(), this.batchWindowMs);
      }
    });
  }

  private flush(): void {
    const all = this.queued;
    this.queued = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) void this.write(all.slice(i, i + MAX_BATCH));
  }

  private async write(batch: PendingSet[]): Promise<void> {
    try {
      const answers = (await setMany(
        this.redis,
        [this.geoKey, this.deadlinesKey],
        [this.hashPrefix, ...batch.map((p) => p.arg)],
      )) as number[];
      batch.forEach((p, i) => {
        const answer = answers[i];
        if (answer === -1) p.reject(new Error(`invalid position for ${p.id}`));
        else p.resolve(answer === 1);
      });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(error);
    }
  }

  async get(id: string): Promise<GeoEntry | null> {
    const [lat, lng, at] = await this.redis.hmget(this.hashPrefix + id, 'lat', 'lng', 'at');
    if (lat == null || lng == null || at == null) return null;
    return { lat: Number(lat), lng: Number(lng), at: Number(at) };
  }

  async remove(id: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.geoKey, id)
      .zrem(this.deadlinesKey, id)
      .del(this.hashPrefix + id)
      .exec();
  }

  async search(center: GeoPoint, radiusKm: number, limit: number): Promise<GeoHit[]> {
    if (limit <= 0 || radiusKm < 0) return [];
    const args = [center.lng, center.lat, radiusKm, Math.floor(limit), this.hashPrefix];
    const rows = (await search(this.redis, [this.geoKey, this.deadlinesKey], args)) as string[][];
    // Coordinates come from the hash: the geo set only keeps a 52-bit geohash of them.
    return rows.map(([id = '', dist, lat, lng, at]) => ({
      id,
      distanceKm: Number(dist),
      lat: Number(lat),
      lng: Number(lng),
      at: Number(at),
    }));
  }

  async size(): Promise<number> {
    return Number(await size(this.redis, [this.geoKey, this.deadlinesKey], []));
  }
}
