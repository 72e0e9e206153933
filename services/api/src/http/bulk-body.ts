import { extname } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import busboy from 'busboy';
import type { Request } from 'express';
import { ApiError } from './api-error.ts';

// The raw body of a bulk request, before any row is read: which format it
// is in, its Content-Encoding undone, the byte cap, a client gone mid-body,
// and the `file` part of a multipart upload. bulk-rows.ts reads rows off it.

export type BulkFormat = 'json' | 'ndjson' | 'csv';

const FORMAT_BY_MEDIA_TYPE: Record<string, BulkFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'text/csv': 'csv',
  'application/csv': 'csv',
};
const FORMAT_BY_EXTENSION: Record<string, BulkFormat> = { '.json': 'json', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.csv': 'csv' };
const ACCEPTED = 'application/json, application/x-ndjson, application/jsonl, text/csv or multipart/form-data with a "file" part';

/**
 * POST paths whose JSON bodies are read here rather than by `express.json`
 * (so they get this module's own byte cap instead of KBFLOW_MAX_BODY_BYTES).
 * Paths are relative to the /v1 router.
 */
const BULK_JSON_PATHS = new Set(['/records']);

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * True when the request body must reach its route as a raw stream: CSV,
 * NDJSON and multipart bodies everywhere, and JSON bodies of the bulk paths.
 * `app.ts` keeps `express.json` off these requests.
 */
export function streamsBody(req: Pick<Request, 'headers' | 'method' | 'path'>): boolean {
  const type = mediaType(req.headers['content-type']);
  if (type === 'multipart/form-data' || (FORMAT_BY_MEDIA_TYPE[type] !== undefined && type !== 'application/json')) return true;
  return req.method === 'POST' && BULK_JSON_PATHS.has(req.path);
}

/** A bulk body as a stream, with the format its rows are in. */
interface BulkBody {
  format: BulkFormat;
  stream: Readable;
  /** Detaches the multipart parser from the request so an early failure still lets the response go out (a no-op for other bodies). */
  release(): void;
}

/**
 * Opens a request's body for reading rows: a multipart upload's `file`
 * part (format from its content type, else its file extension), or the
 * body itself in the format its Content-Type names. gzip and deflate
 * Content-Encodings are undone and `maxBytes` caps the decoded bytes.
 * Throws an ApiError 400/415 when the body cannot be read as a bulk format.
 */
export async function openBulkBody(req: Request, maxBytes: number): Promise<BulkBody> {
  const type = mediaType(req.headers['content-type']);
  if (type === 'multipart/form-data') return openUpload(req, maxBytes);
  const format = FORMAT_BY_MEDIA_TYPE[type];
  if (!format) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      type ? `content type ${type} is not a bulk format; send ${ACCEPTED}` : `missing Content-Type; send ${ACCEPTED}`,
      {
        field: 'Content-Type',
      },
    );
  }
  assertUtf8(req.headers['content-type']);
  const stream = capped(decoded(req), maxBytes);
  failOnAbort(req, stream);
  return { format, stream, release: () => undefined };
}

function assertUtf8(contentType: string | undefined): void {
  const charset = /;\s*charset="?([^";]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new ApiError(415, 'unsupported_encoding', `charset ${charset} is not supported; send UTF-8`, { field: 'Content-Type' });
  }
}

/** The request body with its Content-Encoding (gzip, deflate) undone. */
function decoded(req: Request): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return req;
  const decoder = encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : undefined;
  if (!decoder) throw new ApiError(415, 'unsupported_encoding', `content encoding ${encoding} is not supported (gzip, deflate)`, { field: 'Content-Encoding' });
  // A stream that has failed keeps its first error (a second destroy() is a no-op), so zlib's
  // own error is turned into a 400 on the way out, not on the decoder: it would reach the reader as a 500.
  const out = new PassThrough();
  req.on('error', (error) => decoder.destroy(error));
  decoder.on('error', (error) => {
    out.destroy(
      error instanceof ApiError
        ? error
        : new ApiError(400, 'invalid_encoding', `the ${encoding} body cannot be decoded: ${error.message}`, { field: 'Content-Encoding' }),
    );
  });
  // pipe(), not pipeline(): an early failure must not destroy the request's socket, which still carries our 4xx.
  return req.pipe(decoder).pipe(out);
}

/** Passes `source` through, failing with 413 once more than `maxBytes` went by. */
function capped(source: Readable, maxBytes: number): Readable {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  source.on('error', (error) => cap.destroy(error));
  return source.pipe(cap);
}

/** A client that goes away mid-body must end the read (with an error), not leave it waiting forever. */
function failOnAbort(req: Request, stream: Readable): void {
  req.once('close', () => {
    if (!req.complete) stream.destroy(new ApiError(400, 'incomplete_body', 'the request body was cut short', { field: 'body' }));
  });
}

function unreadableForm(error: Error): ApiError {
  return new ApiError(400, 'invalid_multipart', `multipart body cannot be read: ${error.message}`, { field: 'body' });
}

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `request body is larger than ${maxBytes} bytes; split it into several requests`, { field: 'body' });
}

/** Waits for the multipart part named `file` and returns it as a capped stream. */
function openUpload(req: Request, maxBytes: number): Promise<BulkBody> {
  return new Promise<BulkBody>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 100 } });
    } catch (error) {
      reject(new ApiError(400, 'invalid_multipart', `multipart body cannot be read: ${(error as Error).message}`, { field: 'Content-Type' }));
      return;
    }
    let found = false;
    let out: PassThrough | undefined;
    const release = () => {
      req.unpipe(parser);
      req.resume();
    };
    parser.on('file', (name, file, info) => {
      // busboy destroys the open part's stream with the form's error (a body cut off mid-part):
      // an 'error' nobody listens to would be uncaught and take the process down. The parser's
      // own 'error' (below) reports it; a skipped part has nothing to add.
      if (name !== 'file' || found) {
        file.on('error', () => undefined);
        file.resume();
        return;
      }
      found = true;
      const format = FORMAT_BY_MEDIA_TYPE[mediaType(info.mimeType)] ?? FORMAT_BY_EXTENSION[extname(info.filename ?? '').toLowerCase()];
      if (!format) {
        file.on('error', () => undefined);
        file.resume();
        reject(
          new ApiError(
            415,
            'unsupported_media_type',
            `the uploaded file is ${info.mimeType} "${info.filename ?? ''}": send a .csv, .ndjson, .jsonl or .json file`,
            { field: 'file' },
          ),
        );
        return;
      }
      const stream = new PassThrough();
      // The form can fail before the caller starts reading this stream: the error is kept as
      // `stream.errored` (async iteration throws it; csvRows checks it) instead of being emitted to no listener.
      stream.on('error', () => undefined);
      out = stream;
      file.on('limit', () => stream.destroy(tooLarge(maxBytes)));
      file.on('error', (error: Error) => stream.destroy(error instanceof ApiError ? error : unreadableForm(error)));
      failOnAbort(req, stream);
      file.pipe(stream);
      resolve({ format, stream, release });
    });
    parser.on('error', (error: Error) => {
      const failure = unreadableForm(error);
      if (out) out.destroy(failure);
      else reject(failure);
    });
    req.once('close', () => {
      if (!req.complete && !found) reject(new ApiError(400, 'incomplete_body', 'the request body was cut short', { field: 'body' }));
    });
    parser.on('close', () => {
      if (!found) reject(new ApiError(400, 'missing_file', 'the multipart body has no "file" part', { field: 'file' }));
    });
    req.pipe(parser);
  });
}
