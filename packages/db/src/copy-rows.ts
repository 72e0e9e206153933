import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value COPY's text format can carry: SQL NULL, text, or a number or boolean (written as text). */
export type CopyValue = string | number | boolean | null | undefined;

/** Bytes of COPY text buffered before a write to the socket: large enough for few writes, small enough to bound memory. */
const FLUSH_BYTES = 256 * 1024;

/**
 * A field in COPY's text format: backslash, tab, newline and carriage
 * return escaped, `\N` for NULL. PostgreSQL rejects NUL in text anyway, so
 * it is left for the server to refuse like any other bad value.
 */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'string' ? value : String(value);
  // Most fields have nothing to escape; the test spares a regex replace each.
  if (!/[\\\t\n\r]/.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * Writes `rows` into `table` with `COPY ... FROM STDIN` on `client` (which
 * may be inside a transaction: the rows then land with it or not at all).
 * COPY is PostgreSQL's bulk path: no statement per row or batch to parse
 * and plan, no parameters to bind, rows streamed as they are produced.
 * `table` and `columns` are identifiers from code, never user input.
 */
export async function copyRows(client: pg.ClientBase, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<number> {
  let count = 0;
  function* text(): Generator<string> {
    let buffer = '';
    for (const row of rows) {
      buffer += row.map(copyField).join('\t') + '\n';
      count++;
      if (buffer.length >= FLUSH_BYTES) {
        yield buffer;
        buffer = '';
      }
    }
    if (buffer.length > 0) yield buffer;
  }
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(text(), { objectMode: false }), stream);
  return count;
}
