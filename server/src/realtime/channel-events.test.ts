import { describe, expect, it } from 'vitest';
import type { Bus } from '../adapters/ports.ts';
import { createMemoryAdapters } from '../adapters/memory/index.ts';
import { ManualClock } from '../platform/clock.ts';
import { createChannelPublisher } from './channel-events.ts';

describe('channel publisher', () => {
  it('tells the logged id of an event whose bus publish failed, so the next one replaces it', async () => {
    const clock = new ManualClock();
    const adapters = createMemoryAdapters({ clock });
    const { bus, events } = adapters;
    let failNext = true;
    const flaky: Bus = Object.create(bus) as Bus;
    flaky.publish = (channel, message) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('bus down'));
      }
      return bus.publish(channel, message);
    };
    const publisher = createChannelPublisher({ bus: flaky, events, clock });
    try {
      let last: string | undefined;
      const remember = (id: string) => (last = id);
      await expect(
        publisher.publishJson('fleet', 'fleet.positions', '{"n":1}', {
          replaces: last,
          onAppended: remember,
        }),
      ).rejects.toThrow('bus down');
      expect(last).toBeDefined();
      const second = await publisher.publishJson('fleet', 'fleet.positions', '{"n":2}', {
        replaces: last,
        onAppended: remember,
      });
      expect(last).toBe(second.id);
      // The first batch, logged before its publish failed, is gone from the log.
      const logged = await events.readAfter('fleet', null, 10);
      expect(logged.map((e) => e.id)).toEqual([second.id]);
    } finally {
      await adapters.close();
    }
  });
});
