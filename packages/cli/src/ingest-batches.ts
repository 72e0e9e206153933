import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';

export type IngestFormat = 'csv' | 'ndjson' | 'json';

/** One request's worth of a file. */
export interface FileBatch {
  body: Buffer<ArrayBuffer>;
  contentType: string;
  /** Data rows in this batch (blank NDJSON lines not counted). */
  rows: number;
  /** Data rows of the file before this batch: the API continues row numbers (and idPrefix ids) from here. */
  rowOffset: number;
}

const CONTENT_TYPE: Record<IngestFormat, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson', json: 'application/json' };
const BY_EXTENSION: Record<string, IngestFormat> = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'json' };

/** The format of a file from its extension, or undefined. */
export function formatOf(file: string): IngestFormat | undefined {
  return BY_EXTENSION[extname(file).toLowerCase()];
}

/** A row the CLI itself found unreadable (a ragged CSV row), in the API's error shape. */
export interface LocalRowError {
  row: number;
  field: string;
  reason: string;
}

/**
 * Reads a file as request-sized batches, streaming (JSON arrays excepted:
 * they are one document). CSV is sent as NDJSON keyed by the header (see
 * csvBatches). `onBytes` reports bytes read from disk (for a progress bar),
 * `onRowError` rows that never reach the API.
 */
export async function* fileBatches(
  file: string,
  format: IngestFormat,
  batchRows: number,
  hooks: { onBytes: (n: number) => void; onRowError: (error: LocalRowError) => void },
): AsyncGenerator<FileBatch> {
  if (format === 'json') {
    const text = await readFile(file, 'utf8');
    hooks.onBytes(Buffer.byteLength(text));
    let rows: unknown;
    try {
      rows = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(rows)) throw new Error(`${file} must hold a JSON array of records`);
    for (let i = 0; i < rows.length; i += batchRows) {
      const slice = rows.slice(i, i + batchRows);
      yield { body: Buffer.from(JSON.stringify(slice)), contentType: CONTENT_TYPE.json, rows: slice.length, rowOffset: i };
    }
    return;
  }
  const stream = createReadStream(file);
  stream.on('data', (chunk) => hooks.onBytes(chunk.length));
  if (format === 'ndjson') yield* ndjsonBatches(stream, batchRows);
  else yield* csvBatches(stream, batchRows, file, hooks.onRowError);
}

/** NDJSON by lines; blank lines are sent too, so the API's row numbers are the file's line numbers. */
async function* ndjsonBatches(stream: Readable, batchRows: number): AsyncGenerator<FileBatch> {
  let lines: string[] = [];
  let offset = 0;
  // A batch of blank lines alone would be an empty request (a 400): it is skipped, its lines still counted.
  const batch = (): FileBatch | undefined => {
    const rows = lines.filter((l) => l.trim() !== '').length;
    return rows === 0 ? undefined : { body: Buffer.from(`${lines.join('\n')}\n`), contentType: CONTENT_TYPE.ndjson, rows, rowOffset: offset };
  };
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    lines.push(line);
    if (lines.length >= batchRows) {
      const next = batch();
      if (next) yield next;
      offset += lines.length;
      lines = [];
    }
  }
  const last = batch();
  if (last) yield last;
}

/**
 * CSV goes out as NDJSON, one object per row keyed by the header: the API
 * parses JSON lines several times faster than CSV, which matters at 10,000+
 * rows a request. A ragged row (wrong number of columns) cannot become an
 * object: it is reported here, in the API's words, and sent as a blank line
 * so every later row keeps its number.
 */
async function* csvBatches(stream: Readable, batchRows: number, file: string, onRowError: (error: LocalRowError) => void): AsyncGenerator<FileBatch> {
  // The same reading rules as the API (bom, empty lines skipped, ragged rows kept), so row numbers agree.
  const parser = stream.pipe(parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  stream.on('error', (error) => parser.destroy(error));
  let header: string[] | undefined;
  let lines: string[] = [];
  let rows = 0;
  let offset = 0;
  const emit = (): FileBatch => ({ body: Buffer.from(`${lines.join('\n')}\n`), contentType: CONTENT_TYPE.ndjson, rows, rowOffset: offset });
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = checkedHeader(record, file);
        continue;
      }
      if (record.length === header.length) {
        const row: Record<string, string> = {};
        for (let i = 0; i < header.length; i++) row[header[i]!] = record[i]!;
        lines.push(JSON.stringify(row));
        rows++;
      } else {
        onRowError({ row: offset + lines.length + 1, field: 'row', reason: `has ${record.length} columns; the header has ${header.length}` });
        lines.push('');
      }
      if (lines.length >= batchRows) {
        if (rows > 0) yield emit();
        offset += lines.length;
        lines = [];
        rows = 0;
      }
    }
  } catch (error) {
    throw new Error(`${file} cannot be read as CSV: ${(error as Error).message}`, { cause: error });
  }
  if (rows > 0) yield emit();
}

/** The header as the API would accept it: no empty or repeated column names. */
function checkedHeader(record: string[], file: string): string[] {
  const header = record.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (name === '') throw new Error(`${file}: the CSV header has an empty column name`);
    if (seen.has(name)) throw new Error(`${file}: the CSV header names column "${name}" twice`);
    seen.add(name);
  }
  return header;
}
