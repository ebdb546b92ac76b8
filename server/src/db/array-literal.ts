/**
 * A PostgreSQL array literal (`{1.5,NULL,"a b"}`) for a query parameter cast to an array type
 * (`$1::float8[]`), written in one pass. `pg` turns a JS array parameter into the same text
 * itself, but element by element through its generic value conversion; for the location
 * history, thousands of points a second, that was ~9 % of a server's allocation
 * (docs/benchmarks.md). Numbers must be finite; strings are quoted and escaped, so any text is
 * safe, and null is NULL.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number') out += String(v);
    else out += `"${v.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}
