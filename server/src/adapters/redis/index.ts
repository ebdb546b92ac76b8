import { Redis, type RedisOptions } from 'ioredis';
import type { KeyValueAdapters } from '../ports.ts';
import { RedisBus } from './bus.ts';
import { RedisCache } from './cache.ts';
import { RedisEventLog } from './events.ts';
import { RedisGeoIndex } from './geo.ts';
import { RedisLeaseManager } from './leases.ts';
import { RedisRateLimiter } from './rate-limiter.ts';
import { RedisSessionStore } from './sessions.ts';

export interface RedisAdapterOptions {
  url: string;
  /** Namespaces every key and channel, e.g. `prod:` or `ci:abc:`. */
  prefix: string;
  /** Receives connection errors and exceptions thrown by bus handlers. */
  onError?: (err: unknown) => void;
}

const options: RedisOptions = {
  // Fail requests after a couple of reconnect attempts instead of hanging a web request.
  maxRetriesPerRequest: 2,
  // Reconnect at least every 500 ms (ioredis' default backs off to 2 s): a queued command fails
  // within ~1.5 s while Redis is down, and the instance is back within 0.5 s of Redis.
  retryStrategy: (attempt: number) => Math.min(attempt * 50, 500),
  enableOfflineQueue: true,
  lazyConnect: false,
  connectTimeout: 5_000,
};

async function shutdown(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    if (client.status === 'ready') {
      await client.quit();
      return;
    }
  } catch {
    // Fall through: the connection is unusable anyway.
  }
  client.disconnect();
}

/** The multi-instance implementation: one command connection and one subscriber connection. */
export function createRedisAdapters(opts: RedisAdapterOptions): KeyValueAdapters {
  const onError = opts.onError ?? ((err: unknown) => console.error('redis adapter error', err));
  // Commands issued in one event-loop turn go out in one write: under load a turn carries
  // dozens (one geo write per location update, publishes, session look-ups), and on the
  // benchmark machine each socket write cost ~35 µs of CPU, the largest item in the profile.
  const commands = new Redis(opts.url, {
    ...options,
    connectionName: 'delivery-commands',
    enableAutoPipelining: true,
  });
  const subscriber = new Redis(opts.url, { ...options, connectionName: 'delivery-subscriber' });
  // Without listeners ioredis prints "Unhandled error event" for every reconnect attempt.
  commands.on('error', onError);
  subscriber.on('error', onError);
  const { prefix } = opts;
  return {
    kind: 'redis',
    sessions: new RedisSessionStore(commands, prefix),
    geo: new RedisGeoIndex(commands, prefix),
    bus: new RedisBus(commands, subscriber, prefix, onError),
    events: new RedisEventLog(commands, prefix),
    leases: new RedisLeaseManager(commands, prefix),
    cache: new RedisCache(commands, prefix),
    rateLimiter: new RedisRateLimiter(commands, prefix),
    async ping() {
      await commands.ping();
    },
    async close() {
      await Promise.all([shutdown(commands), shutdown(subscriber)]);
    },
  };
}
