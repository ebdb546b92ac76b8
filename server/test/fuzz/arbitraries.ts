import fc from 'fast-check';

/**
 * fast-check arbitraries built from the JSON Schemas of the OpenAPI document, which the server
 * generates from the same zod schemas it validates with. `valid` stays inside the schema;
 * `hostile` mixes in wrong types, huge and odd strings and injection payloads at every level.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  nullable?: boolean;
}

/** Payloads that break naive SQL, HTML, template, path and header handling. */
export const INJECTIONS = [
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  '" OR ""="',
  "Robert'); DELETE FROM orders; --",
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${7*7}',
  '#{7*7}',
  '../../../../etc/passwd',
  '%s%s%s%n',
  '%_\\',
  '\\x00\\u0000',
  '$where: 1',
  '{"$gt": ""}',
  '__proto__',
  'constructor.prototype',
  'Zoë 🍕 مرحبا 漢字 𝔘𝔫𝔦',
  'a\u202Eb\u200Bc\uFEFFd',
  '🏳️‍🌈👩‍👩‍👧‍👦',
] as const;

/** Strings PostgreSQL text cannot hold: a NUL and unpaired UTF-16 surrogates. */
export const UNSTORABLE = ['nul\u0000byte', '\u0000', 'lone \uD800 high', 'lone \uDFFF low'];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<string>(...INJECTIONS) },
  { weight: 2, arbitrary: fc.constantFrom(...UNSTORABLE) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 2_000 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t\n', 'x'.repeat(5_000)) },
  { weight: 1, arbitrary: fc.constantFrom('-1', '0', '1e309', 'NaN', 'Infinity', 'true', 'null') },
);

const hostileScalar = fc.oneof(
  hostileString,
  fc.constantFrom<unknown>(null, true, false, 0, -1, -0, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any value of the wrong shape: scalars, arrays, deep or odd objects. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      {},
      [],
      [[[]]],
      { __proto__: { admin: true } },
      {
        constructor: { prototype: { admin: true } },
      },
    ),
  },
);

/** Where uuid-typed fields draw from: ids that exist (to reach deep code) or random ones. */
export interface IdPool {
  ids: readonly string[];
}

const typeOf = (s: JsonSchema): string | undefined => (Array.isArray(s.type) ? s.type[0] : s.type);

function stringArb(s: JsonSchema, pool: IdPool): fc.Arbitrary<string> {
  if (s.format === 'uuid') {
    return pool.ids.length
      ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool.ids) }, fc.uuid({ version: 4 }))
      : fc.uuid({ version: 4 });
  }
  // fc.emailAddress() follows RFC 5322, which is wider than what zod accepts.
  if (s.format === 'email')
    return fc.stringMatching(/^[a-z0-9]{1,16}@[a-z0-9]{1,12}\.(test|example)$/);
  if (s.format === 'date-time') {
    return fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 200, 400);
  if (s.pattern) {
    // stringMatching ignores lengths; repeating a match of a character-class pattern keeps it one.
    const re = new RegExp(s.pattern);
    return fc
      .stringMatching(re)
      .map((m) => (m.length >= min ? m : m.repeat(Math.ceil(min / Math.max(1, m.length)))))
      .map((m) => m.slice(0, max))
      .filter((m) => m.length >= min && re.test(m));
  }
  // Texts that survive the schema's trim: injections and arbitrary characters, non-blank ends.
  const text = fc.oneof(
    fc.constantFrom<string>(...INJECTIONS),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: max }),
  );
  return text.map((t) => t.trim().slice(0, max)).filter((t) => t.length >= min);
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const exMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : undefined;
  const exMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : undefined;
  const lo = s.minimum ?? exMin ?? -1e6;
  const hi = s.maximum ?? exMax ?? 1e6;
  if (integer) {
    return fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }).filter((n) => {
      return (exMin === undefined || n > exMin) && (exMax === undefined || n < exMax);
    });
  }
  return fc
    .double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true })
    .filter((n) => (exMin === undefined || n > exMin) && (exMax === undefined || n < exMax));
}

/**
 * Values the schema accepts (with `hostility` > 0, each value is replaced by a hostile one with
 * that probability, at any depth, and objects may grow unknown keys).
 */
export function fromSchema(s: JsonSchema, pool: IdPool, hostility = 0): fc.Arbitrary<unknown> {
  const plain = schemaArb(s, pool, hostility);
  if (hostility <= 0) return plain;
  const weight = Math.max(1, Math.round(hostility * 100));
  return fc.oneof({ weight: 100 - weight, arbitrary: plain }, { weight, arbitrary: hostileValue });
}

function schemaArb(s: JsonSchema, pool: IdPool, hostility: number): fc.Arbitrary<unknown> {
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, pool, hostility)));
  if (s.nullable) {
    return fc.oneof(fc.constant(null), fromSchema({ ...s, nullable: false }, pool, hostility));
  }
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (typeOf(s)) {
    case 'object': {
      const props = s.properties ?? {};
      const model = Object.fromEntries(
        Object.entries(props).map(([k, v]) => [k, fromSchema(v, pool, hostility)]),
      );
      const record = fc.record(model, { requiredKeys: s.required ?? [] });
      if (hostility <= 0) return record;
      return fc
        .tuple(record, fc.option(fc.dictionary(hostileString, hostileValue, { maxKeys: 2 })))
        .map(([r, extra]) => (extra ? { ...extra, ...r } : r));
    }
    case 'array':
      return fc.array(fromSchema(s.items ?? {}, pool, hostility), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 5, 5),
      });
    case 'string':
      return stringArb(s, pool);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case undefined:
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Bodies sent as raw text with `content-type: application/json`. */
export const rawJsonBodies = fc.constantFrom(
  '',
  '{',
  '[1,2',
  '{"a":1}}',
  'null',
  '"text"',
  '12',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  '{"a":"\\ud800"}',
  '\u0000',
  '\uFEFF{}',
);

/** A query-string value: left out, a valid value printed (or the example's), or hostile. */
export function queryValue(
  s: JsonSchema,
  pool: IdPool,
  example?: fc.Arbitrary<unknown>,
): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: (example ?? fromSchema(s, pool)).map((v) => String(v)) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** An object built from an example of a valid one, with some fields replaced or left out. */
export function nearExample(
  example: Record<string, fc.Arbitrary<unknown>>,
  schema: JsonSchema | undefined,
  pool: IdPool,
): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(example).map(([key, arb]) => {
    const prop = schema?.properties?.[key];
    return [
      key,
      fc.oneof(
        { weight: 30, arbitrary: arb },
        { weight: 1, arbitrary: prop ? fromSchema(prop, pool) : arb },
        { weight: 1, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
    ] as const;
  });
  return fc
    .record(Object.fromEntries(fields))
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

/** Strings `fetch` can put in a header (visible ASCII). */
export const headerSafe = (v: string) => /^[\x20-\x7e]*$/.test(v);
