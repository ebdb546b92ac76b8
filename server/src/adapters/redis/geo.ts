import type { Redis } from 'ioredis';
import type { GeoEntry, GeoHit, GeoIndex, GeoPoint } from '../ports.ts';
import { LUA_NOW, luaScript, ttlArg } from './script.ts';

// Keys: the GEO set, a ZSET of member -> expiry ms ("deadlines") and one hash per entry with
// the exact lat, lng and at. Geo set members cannot expire, so every script first purges
// members whose deadline passed; the hash gets the same deadline via PEXPIREAT, so both agree.
// Scripts build hash keys from ARGV: fine on a single Redis, not on Redis Cluster.
const PURGE = `${LUA_NOW}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)) do
  redis.call('ZREM', KEYS[1], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
`;

// KEYS: geo, deadlines, hash. ARGV: id, lng, lat, at, ttl. Last write wins by \`at\`.
const set = luaScript(`
local prev = redis.call('HGET', KEYS[3], 'at')
if prev and tonumber(prev) > tonumber(ARGV[4]) then return 0 end
${LUA_NOW}
local deadline = now + tonumber(ARGV[5])
redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], 'lat', ARGV[3], 'lng', ARGV[2], 'at', ARGV[4])
redis.call('PEXPIREAT', KEYS[3], deadline)
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
return 1
`);

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

export class RedisGeoIndex implements GeoIndex {
  private readonly geoKey: string;
  private readonly deadlinesKey: string;
  private readonly hashPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.geoKey = `${prefix}drivers:locations`;
    this.deadlinesKey = `${prefix}drivers:deadlines`;
    this.hashPrefix = `${prefix}driver:`;
  }

  async set(id: string, entry: GeoEntry, ttlMs: number): Promise<boolean> {
    const keys = [this.geoKey, this.deadlinesKey, this.hashPrefix + id];
    const args = [id, String(entry.lng), String(entry.lat), String(entry.at), ttlArg(ttlMs)];
    return (await set(this.redis, keys, args)) === 1;
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
