/**
 * CSV as PostgreSQL's `COPY ... CSV` reads it: NULL is an empty unquoted field, every other value
 * is quoted (so an empty string is `""`), quotes are doubled, rows end with `\n`. An archive can
 * therefore be loaded by this project's restore or by hand with psql's `\copy ... CSV HEADER`.
 */
export type CsvValue = string | null;

const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;

export function csvHeader(columns: readonly string[]): string {
  return `${columns.join(',')}\n`;
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map((v) => (v === null ? '' : quote(v))).join(',')}\n`;
}

/**
 * Parses CSV text arriving in chunks (a decoded stream) into rows; quoted fields may hold
 * commas, quotes and newlines. Yields `null` for an empty unquoted field.
 */
export async function* parseCsv(
  chunks: AsyncIterable<string | Buffer>,
): AsyncGenerator<CsvValue[]> {
  let row: CsvValue[] = [];
  let field = '';
  // start: at a field's beginning; bare: in an unquoted field; quoted: inside quotes;
  // closing: just after a quote inside a quoted field (end of field, or the first of "").
  let state: 'start' | 'bare' | 'quoted' | 'closing' = 'start';
  const special = /[,\n\r]/g;

  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? raw : raw.toString('utf8');
    const rows: CsvValue[][] = [];
    let i = 0;
    while (i < chunk.length) {
      if (state === 'quoted') {
        const q = chunk.indexOf('"', i);
        if (q < 0) {
          field += chunk.slice(i);
          i = chunk.length;
        } else {
          field += chunk.slice(i, q);
          state = 'closing';
          i = q + 1;
        }
        continue;
      }
      const c = chunk[i]!;
      if (state === 'closing') {
        if (c === '"') {
          field += '"';
          state = 'quoted';
          i++;
          continue;
        }
        if (c !== ',' && c !== '\n' && c !== '\r') {
          throw new Error(`CSV: unexpected ${JSON.stringify(c)} after a closing quote`);
        }
        // Fall through to end the (quoted, so non-null) field below.
      } else if (state === 'start' && c === '"') {
        field = '';
        state = 'quoted';
        i++;
        continue;
      } else if (state === 'start' || state === 'bare') {
        special.lastIndex = i;
        const m = special.exec(chunk);
        const end = m ? m.index : chunk.length;
        if (end > i) {
          field += chunk.slice(i, end);
          state = 'bare';
          i = end;
          continue;
        }
      }
      // c is a separator: ',' '\n' or '\r' (ignored, so CRLF reads like LF).
      if (c === '\r') {
        i++;
        continue;
      }
      row.push(state === 'start' ? null : field);
      field = '';
      state = 'start';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
      i++;
    }
    yield* rows;
  }
  if (state === 'quoted') throw new Error('CSV: unterminated quoted field at end of input');
  if (state !== 'start' || row.length > 0) {
    row.push(state === 'start' ? null : field);
    yield row;
  }
}
