import type { Readable } from 'node:stream';
import { parse as parseCsv, CsvError } from 'csv-parse';
import type { Request } from 'express';
import { ApiError } from './api-error.ts';
import { openBulkBody, tooLarge, type BulkFormat } from './bulk-body.ts';

/** One data row of a bulk body: its fields, or why it could not be read. */
interface BulkRow {
  /** 1-based data row number (CSV: header excluded; NDJSON: line number; JSON: array index + 1). */
  row: number;
  /** The row as read: JSON/NDJSON objects as they are, CSV rows keyed by header name. The caller maps names. */
  fields?: Record<string, unknown>;
  /** Set instead of `fields` when this row alone is unreadable (the rest of the body still is). */
  error?: { field: string; reason: string };
}

interface BulkReadOptions {
  /** Cap on the (decompressed) body or uploaded file; past it the read fails with 413. */
  maxBytes: number;
  /** Rows per yielded batch. */
  batchSize: number;
}

/**
 * Reads a request body as rows, in batches, whatever the bulk format:
 * a JSON array, NDJSON, CSV with a header row, or a multipart/form-data
 * upload whose `file` part is one of those (format from the part's content
 * type, else its file extension). gzip and deflate Content-Encodings are
 * decoded; the byte cap applies to the decoded bytes (see bulk-body.ts).
 *
 * A body that cannot be read as a whole (unknown content type, not an
 * array, broken JSON or CSV quoting, over the cap) throws an ApiError
 * 400/413/415. One unreadable row (an NDJSON line that is not a JSON
 * object, a CSV row with the wrong number of columns) is yielded with
 * `error` and reading goes on. Because a whole-body error can come after
 * rows were yielded, callers that must leave nothing half-written collect
 * all batches before writing.
 *
 * A body that `express.json` already parsed (a route not listed for
 * streaming) is accepted too: its array is batched under the global cap.
 */
async function* readBulkRows(req: Request, opts: BulkReadOptions): AsyncGenerator<BulkRow[]> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.maxBytes) throw tooLarge(opts.maxBytes);

  if (req.readableEnded && req.body !== undefined) {
    yield* batched(jsonRows(req.body), opts.batchSize);
    return;
  }
  const body = await openBulkBody(req, opts.maxBytes);
  try {
    yield* batched(rowsOf(body.format, body.stream), opts.batchSize);
  } finally {
    body.release();
  }
}

async function* batched(rows: AsyncIterable<BulkRow> | Iterable<BulkRow>, size: number): AsyncGenerator<BulkRow[]> {
  let batch: BulkRow[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function rowsOf(format: BulkFormat, stream: Readable): AsyncIterable<BulkRow> {
  switch (format) {
    case 'json':
      return jsonBodyRows(stream);
    case 'ndjson':
      return ndjsonRows(stream);
    case 'csv':
      return csvRows(stream);
  }
}

/**
 * A JSON array is parsed whole with JSON.parse: any syntax error anywhere
 * makes the whole body invalid anyway, the byte cap bounds the memory, and
 * JSON.parse is an order of magnitude faster than incremental parsers.
 */
async function* jsonBodyRows(stream: Readable): AsyncGenerator<BulkRow> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
  yield* jsonRows(body);
}

function* jsonRows(body: unknown): Generator<BulkRow> {
  if (!Array.isArray(body)) throw new ApiError(400, 'not_an_array', 'a JSON bulk body must be an array of objects', { field: 'body' });
  for (let i = 0; i < body.length; i++) yield objectRow(i + 1, body[i]);
}

function objectRow(row: number, value: unknown): BulkRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { row, error: { field: 'row', reason: 'must be a JSON object' } };
  return { row, fields: value as Record<string, unknown> };
}

/**
 * NDJSON split by hand: readline's async iterator does not reliably surface
 * errors of its input stream (our 413), and splitting on "\n" is all it takes.
 * Blank lines are skipped but counted, so `row` is the line number.
 */
async function* ndjsonRows(stream: Readable): AsyncGenerator<BulkRow> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let line = 0;
  const parseLine = (text: string): BulkRow | undefined => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    try {
      return objectRow(line, JSON.parse(trimmed));
    } catch (error) {
      return { row: line, error: { field: 'row', reason: `not valid JSON: ${(error as Error).message}` } };
    }
  };
  for await (const chunk of stream) {
    pending += decoder.decode(chunk as Buffer, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const row = parseLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      if (row) yield row;
    }
  }
  pending += decoder.decode();
  const last = parseLine(pending);
  if (last) yield last;
}

/** CSV (RFC 4180) through csv-parse; the first record is the header. */
async function* csvRows(stream: Readable): AsyncGenerator<BulkRow> {
  // An upload can fail before its rows are read; pipe() would then wait forever.
  if (stream.errored) throw stream.errored;
  const parser = parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true });
  stream.on('error', (error) => parser.destroy(error));
  stream.pipe(parser);
  let header: string[] | undefined;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((name) => name.trim());
        const seen = new Set<string>();
        for (const name of header) {
          if (name === '') throw new ApiError(400, 'invalid_csv', 'the CSV header has an empty column name', { field: 'header' });
          if (seen.has(name)) throw new ApiError(400, 'invalid_csv', `the CSV header names column "${name}" twice`, { field: 'header' });
          seen.add(name);
        }
        continue;
      }
      row++;
      if (record.length !== header.length) {
        yield { row, error: { field: 'row', reason: `has ${record.length} columns; the header has ${header.length}` } };
        continue;
      }
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) fields[header[i]!] = record[i];
      yield { row, fields };
    }
  } catch (error) {
    if (error instanceof CsvError) throw new ApiError(400, 'invalid_csv', `the CSV cannot be parsed: ${error.message}`, { field: 'body' });
    throw error;
  }
  if (!header) throw new ApiError(400, 'invalid_csv', 'the CSV is empty: it needs a header row', { field: 'body' });
}

/** A valid row its batch's writer refused (a quota): by the row's id, the field to name and why. */
export interface BatchRefusal {
  id: string;
  field: string;
  reason: string;
}

/** A row that could not be accepted: which row, which field, why. */
interface BulkRowError {
  row: number;
  field: string;
  reason: string;
}

/** What a bulk body held once every row was read and mapped. */
export interface CollectedRows<T> {
  /** The rows that mapped to a value, in body order. */
  valid: T[];
  received: number;
  invalid: number;
  /** The first `maxErrors` row errors. */
  errors: BulkRowError[];
  errorsTruncated: boolean;
}

/** Options of {@link forEachBulkBatch} and {@link collectBulkRows}. */
export type MapRowsOptions<T> = BulkReadOptions & {
  rowOffset: number;
  maxErrors: number;
  /** The row's value, or its error. */
  map: (row: number, fields: Record<string, unknown>) => T | BulkRowError;
  /** The id that must be unique within a request, and the field it is reported under. */
  idOf: (value: T) => string;
  idField: string;
};

/**
 * Reads a bulk body batch by batch and hands each batch's valid, mapped
 * rows to `onBatch` before reading on, so a caller can write a large
 * upload in bounded memory (only the ids seen so far are kept, to report
 * repeats). Rows that are unreadable, fail `map`, or repeat an earlier
 * row's id are reported by row number (offset by `rowOffset`, for files
 * sent in several requests), field and reason. A body that turns out
 * malformed half-way throws after some batches were handed over: a caller
 * that must leave nothing half-written writes them in a transaction it
 * rolls back then.
 */
export async function forEachBulkBatch<T>(
  req: Request,
  opts: MapRowsOptions<T>,
  onBatch: (valid: T[]) => Promise<void | BatchRefusal[]>,
): Promise<Omit<CollectedRows<T>, 'valid'>> {
  const errors: BulkRowError[] = [];
  const seen = new Map<string, number>();
  let invalid = 0;
  let received = 0;
  const reject = (error: BulkRowError) => {
    invalid++;
    if (errors.length < opts.maxErrors) errors.push(error);
  };
  for await (const batch of readBulkRows(req, opts)) {
    const valid: T[] = [];
    for (const bulkRow of batch) {
      received++;
      const row = bulkRow.row + opts.rowOffset;
      if (bulkRow.error) {
        reject({ row, ...bulkRow.error });
        continue;
      }
      const mapped = opts.map(row, bulkRow.fields!);
      if (isBulkRowError(mapped)) {
        reject(mapped);
        continue;
      }
      const id = opts.idOf(mapped);
      const first = seen.get(id);
      if (first !== undefined) {
        reject({ row, field: opts.idField, reason: `"${id}" is also on row ${first}; ids must be unique within a request` });
        continue;
      }
      seen.set(id, row);
      valid.push(mapped);
    }
    if (valid.length === 0) continue;
    const refused = await onBatch(valid);
    for (const refusal of refused ?? []) reject({ row: seen.get(refusal.id) ?? 0, field: refusal.field, reason: refusal.reason });
  }
  // Refusals come after their batch's rows were read: errors stay in row order.
  errors.sort((a, b) => a.row - b.row);
  return { received, invalid, errors, errorsTruncated: invalid > errors.length };
}

/**
 * Reads every row of a bulk body and maps it, before anything is written: a
 * body that turns out malformed half-way throws and leaves nothing behind
 * (see {@link forEachBulkBatch}, which this collects).
 */
export async function collectBulkRows<T>(req: Request, opts: MapRowsOptions<T>): Promise<CollectedRows<T>> {
  const valid: T[] = [];
  const rest = await forEachBulkBatch(req, opts, async (batch) => void valid.push(...batch));
  return { valid, ...rest };
}

/** Row values never carry `reason`; errors always do (as the row mappers' own guards assume). */
function isBulkRowError(value: unknown): value is BulkRowError {
  return typeof value === 'object' && value !== null && 'reason' in value;
}
