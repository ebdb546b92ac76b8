import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral } from './array-literal.ts';
import type { Db } from './db.ts';
import { createPgliteDb } from './pglite.ts';

describe('arrayLiteral', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createPgliteDb({
      onAfterCommitError: (e) => {
        throw e;
      },
    });
  });
  afterAll(() => db.close());

  const roundTrip = async (literal: string, type: string): Promise<unknown[]> =>
    (await db.query<{ a: unknown[] }>(`SELECT $1::${type}[] AS a`, [literal])).rows[0]!.a;

  it('reads back as the same finite numbers and nulls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null })),
        async (values) => {
          const expected = values.map((v) => (Object.is(v, -0) ? 0 : v));
          expect(await roundTrip(arrayLiteral(values), 'float8')).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads back as the same strings, whatever characters they hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null })),
        async (values) => {
          const clean = values.map((v) => v?.replaceAll('\0', '') ?? null);
          expect(await roundTrip(arrayLiteral(clean), 'text')).toEqual(clean);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes uuids and an empty array as PostgreSQL reads them', async () => {
    const ids = ['7b0a6a0e-4b7c-4b53-9d7e-1f0c2f1f5a11', '00000000-0000-0000-0000-000000000000'];
    expect(await roundTrip(arrayLiteral(ids), 'uuid')).toEqual(ids);
    expect(await roundTrip(arrayLiteral([]), 'float8')).toEqual([]);
  });
});
