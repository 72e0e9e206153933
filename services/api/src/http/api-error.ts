import { isDatabaseUnavailable } from '@kbflow/db';
import { AppError } from '@kbflow/errors';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * An error with an HTTP status that the error middleware turns into
 * `{"error": {...}}`. Retryable when the same request can work later: a 5xx
 * or a 429.
 */
export class ApiError extends AppError {
  declare readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, opts: { field?: string; headers?: Record<string, string> } = {}) {
    super(code, message, { status, retryable: status >= 500 || status === 429 });
    this.field = opts.field;
    this.headers = opts.headers ?? {};
  }
}

/** Parses a request body with a zod schema; the first issue names the field in a 400. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let path = issue.path.map(String).join('.');
  // A nested object's unknown key is named with its parents (`politeness.rps`).
  if (issue.code === 'unrecognized_keys') path = issue.keys.map((key) => [...issue.path.map(String), key].join('.')).join(', ');
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
  throw new ApiError(400, issue.code === 'unrecognized_keys' ? 'unknown_field' : 'invalid_field', message, { field: path || undefined });
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`));
};

/**
 * Seconds a client is asked to wait when PostgreSQL is unreachable: about
 * the first waits of the workers' outage backoff (docs/failures.md), so a
 * client retrying does not hammer a recovering database.
 */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The one place HTTP errors are classified and logged. Body-parser failures
 * (bad JSON, too large) become 400/413; PostgreSQL unreachable (down,
 * restarting, the connection dropped: `isDatabaseUnavailable`) is a 503
 * `database_unavailable` with Retry-After, since the same request will
 * work once it is back; anything else unexpected is a 500 whose details stay
 * in the log.
 */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let apiError: ApiError;
    if (error instanceof ApiError) apiError = error;
    else if (error?.type === 'entity.too.large') apiError = new ApiError(413, 'payload_too_large', `request body is larger than ${error.limit} bytes`);
    else if (error?.type === 'entity.parse.failed') apiError = new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    else if (error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported')
      apiError = new ApiError(415, 'unsupported_encoding', error.message);
    else if (typeof error?.status === 'number' && error.status >= 400 && error.status < 500)
      apiError = new ApiError(error.status, 'bad_request', error.message);
    else if (isDatabaseUnavailable(error)) {
      log.warn({ err: error, method: req.method, path: req.path }, 'database unavailable; answering 503');
      apiError = new ApiError(503, 'database_unavailable', 'the database is unavailable; retry later', {
        headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
      });
    } else {
      log.error({ err: error, method: req.method, path: req.path }, 'request failed');
      apiError = new ApiError(500, 'internal', 'internal error');
    }
    if (res.headersSent) return;
    res.set(apiError.headers);
    res.status(apiError.status).json({
      error: { code: apiError.code, message: apiError.message, ...(apiError.field ? { field: apiError.field } : {}) },
    });
  };
}
