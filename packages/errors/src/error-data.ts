import { AppError } from './app-error.ts';

/**
 * An error as data: what crosses the queue (a failed job's `failedReason`)
 * and what the API maps to its responses. JSON, so the reader needs no
 * pattern to take it apart.
 */
export interface ErrorData {
  code: string;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  status?: number;
}

/** The code of a failure that is not one of kbflow's errors (a bug, a library's own error). */
export const UNCLASSIFIED = 'job_failed';

/** The data of any thrown value. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof AppError) {
    return {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      ...(error.status !== undefined ? { status: error.status } : {}),
    };
  }
  return { code: UNCLASSIFIED, message: error instanceof Error ? error.message : String(error), retryable: true };
}

/** What a failed job's `failedReason` holds: its {@link ErrorData} as JSON. */
export function encodeError(error: unknown): string {
  return JSON.stringify(toErrorData(error));
}

/**
 * Reads a `failedReason` back. A reason kbflow did not write (BullMQ's own,
 * such as "job stalled more than allowable limit", or one of a job failed
 * before this format) is kept whole as the message of an unclassified error.
 */
export function decodeError(reason: string | undefined): ErrorData {
  const text = reason ?? '';
  if (text.startsWith('{')) {
    try {
      const data = JSON.parse(text) as Partial<ErrorData> | null;
      if (typeof data?.code === 'string' && typeof data.message === 'string' && typeof data.retryable === 'boolean') {
        return {
          code: data.code,
          message: data.message,
          retryable: data.retryable,
          ...(typeof data.retryAfterMs === 'number' ? { retryAfterMs: data.retryAfterMs } : {}),
          ...(typeof data.status === 'number' ? { status: data.status } : {}),
        };
      }
    } catch {
      // Not JSON after all: an unclassified reason, below.
    }
  }
  return { code: UNCLASSIFIED, message: text, retryable: true };
}

/**
 * One line for people (logs, a page's stored error, a dead letter):
 * `code: message` for kbflow's errors, the message alone for others. Never
 * read back: code that needs the code has the error or its {@link ErrorData}.
 */
export function describeError(error: unknown): string {
  return describeErrorData(toErrorData(error));
}

/** {@link describeError} of an error that is already data (a decoded failedReason). */
export function describeErrorData(data: ErrorData): string {
  return data.code === UNCLASSIFIED ? data.message : `${data.code}: ${data.message}`;
}
