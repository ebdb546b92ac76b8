import { ClientMessage } from '@delivery/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientMessages } from './connection.ts';

const iso = fc
  .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Strings that look like times, and sometimes are not. */
const timeLike = fc.oneof(
  iso,
  iso.map((s) => s.replace('Z', '+02:00')),
  iso.map((s) => s.slice(0, 19)),
  fc.string({ unit: fc.constantFrom(...'0123456789-:TZ.+ ') }),
);

/** Numbers of every kind a JSON message (or a bug) can carry, in and out of every range. */
const num = fc.oneof(
  fc.double(),
  fc.integer({ min: -400, max: 20_000 }),
  fc.constantFrom(0, -0, 1e-12, -1e-12, 90, -90, 180, 360, 100, 10_000, Number.MAX_SAFE_INTEGER),
);

/** A report as the schema wants it, optional fields present or not. */
const location = fc.record(
  {
    type: fc.constant('location'),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lng: fc.double({ min: -180, max: 180, noNaN: true }),
    heading: fc.double({ min: 0, max: 360, noNaN: true }),
    speedMps: fc.double({ min: 0, max: 100, noNaN: true }),
    accuracyM: fc.double({ min: 0, max: 10_000, noNaN: true }),
    recordedAt: iso,
    seq: fc.nat(),
  },
  { requiredKeys: ['type', 'lat', 'lng', 'seq'] },
);

/** The same with one field set to something else, maybe wrong, or one key too many. */
const alteredLocation = fc
  .tuple(
    location,
    fc.constantFrom(
      'type',
      'lat',
      'lng',
      'heading',
      'speedMps',
      'accuracyM',
      'recordedAt',
      'seq',
      'extra',
    ),
    fc.oneof(num, timeLike, fc.anything()),
  )
  .map(([report, key, value]) => ({ ...report, [key]: value }));

const anyMessage = fc.oneof(
  { arbitrary: location, weight: 3 },
  { arbitrary: alteredLocation, weight: 4 },
  fc.record({
    type: fc.constantFrom('auth', 'subscribe', 'unsubscribe', 'ping', 'nope'),
    token: fc.string(),
    channel: fc.oneof(
      fc.constant('fleet'),
      fc.uuid().map((id) => `order:${id}`),
      fc.string(),
    ),
    lastEventId: fc.oneof(fc.constant('1700000000000-0'), fc.string()),
  }),
  fc.anything(),
);

describe('client messages', () => {
  it('are read by a parser Zod generated, not by its fallback alone', () => {
    // `z.compile` quietly keeps the ordinary parser for a schema it cannot generate one for;
    // strict, it says so. A schema change that loses the fast path fails here.
    expect(() => z.compile(ClientMessage, { strict: true })).not.toThrow();
  });

  it('get the same answer, value or errors, from the generated parser as from the schema', () => {
    fc.assert(
      fc.property(anyMessage, (input) => {
        const expected = ClientMessage.safeParse(input);
        const actual = clientMessages.safeParse(input);
        expect(actual.success).toBe(expected.success);
        if (expected.success) expect(actual.data).toEqual(expected.data);
        else expect(actual.error?.issues).toEqual(expected.error.issues);
      }),
      { numRuns: 3_000 },
    );
  });

  it('accept the reports drivers send', () => {
    fc.assert(
      fc.property(
        fc.record({
          lat: fc.double({ min: -90, max: 90, noNaN: true }),
          lng: fc.double({ min: -180, max: 180, noNaN: true }),
          heading: fc.integer({ min: 0, max: 360 }),
          recordedAt: iso,
          seq: fc.nat(),
        }),
        (report) => {
          const read = clientMessages.safeParse({ type: 'location', ...report });
          expect(read.success).toBe(true);
          expect(read.data).toMatchObject({ type: 'location', seq: report.seq });
        },
      ),
    );
  });
});
