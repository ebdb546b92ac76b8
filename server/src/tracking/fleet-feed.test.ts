import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppliedLocation } from '../drivers/location.service.ts';
import { ManualClock } from '../platform/clock.ts';
import { FLEET_FORGET_AFTER_MS, FleetFeed, fleetEntryJson } from './fleet-feed.ts';

const position = fc.record({
  driverId: fc.uuid(),
  lat: fc.double({ min: -90, max: 90, noNaN: true }),
  lng: fc.double({ min: -180, max: 180, noNaN: true }),
  heading: fc.option(fc.double({ min: 0, max: 360, noNaN: true }), { nil: null }),
  recordedAt: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) }),
});

function at(
  driverId: string,
  lat: number,
  recordedAt = Date.UTC(2026, 10, 29, 12),
): AppliedLocation {
  return { driverId, lat, lng: 8.69, heading: null, recordedAt };
}

async function batchOf(feed: FleetFeed): Promise<Array<{ driverId: string; lat: number }> | null> {
  const json = await feed.nextBatch();
  return json === null
    ? null
    : (JSON.parse(json) as { drivers: Array<{ driverId: string; lat: number }> }).drivers;
}

describe('fleetEntryJson', () => {
  it('writes the same text as JSON.stringify of the event entry', () => {
    fc.assert(
      fc.property(position, (p) => {
        const entry = {
          driverId: p.driverId,
          lat: p.lat,
          lng: p.lng,
          heading: p.heading,
          recordedAt: new Date(p.recordedAt).toISOString(),
        };
        expect(fleetEntryJson(p)).toBe(JSON.stringify(entry));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('FleetFeed', () => {
  it('batches each driver that reported since the last batch once, at its newest position', async () => {
    const feed = new FleetFeed(new ManualClock());
    expect(await feed.nextBatch()).toBeNull();
    feed.record(at('a', 49.1));
    feed.record(at('b', 49.2));
    feed.record(at('a', 49.3));
    expect(await batchOf(feed)).toEqual([
      expect.objectContaining({ driverId: 'a', lat: 49.3 }),
      expect.objectContaining({ driverId: 'b', lat: 49.2 }),
    ]);
    expect(await feed.nextBatch()).toBeNull();
    feed.record(at('b', 49.4));
    expect(await batchOf(feed)).toEqual([expect.objectContaining({ driverId: 'b', lat: 49.4 })]);
  });

  it('sends a report that comes while a batch is built in it before its turn, or in the next one after', async () => {
    const feed = new FleetFeed(new ManualClock(), 2);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) feed.record(at(id, 49 + i / 10));
    const building = batchOf(feed);
    // The first slice (a, b) is serialised at once; c and d wait for the next turn.
    feed.record(at('a', 50.0));
    feed.record(at('d', 50.3));
    expect(await building).toEqual([
      expect.objectContaining({ driverId: 'a', lat: 49 }),
      expect.objectContaining({ driverId: 'b', lat: 49.1 }),
      expect.objectContaining({ driverId: 'c', lat: 49.2 }),
      expect.objectContaining({ driverId: 'd', lat: 50.3 }),
    ]);
    expect(await batchOf(feed)).toEqual([expect.objectContaining({ driverId: 'a', lat: 50.0 })]);
  });

  it('forgets drivers that have not reported for five minutes (checked every 30 s), and only those', async () => {
    const clock = new ManualClock();
    const feed = new FleetFeed(clock);
    feed.record(at('quiet', 49.1));
    feed.record(at('busy', 49.2));
    await feed.nextBatch();
    clock.advance(FLEET_FORGET_AFTER_MS - 1_000);
    feed.record(at('busy', 49.3));
    await feed.nextBatch();
    expect(feed.size).toBe(2);
    clock.advance(FLEET_FORGET_AFTER_MS / 10);
    expect(await feed.nextBatch()).toBeNull();
    expect(feed.size).toBe(1);
    feed.record(at('quiet', 49.5));
    expect(await batchOf(feed)).toEqual([
      expect.objectContaining({ driverId: 'quiet', lat: 49.5 }),
    ]);
  });
});
