/** Why a vector-store call failed; stable strings, safe to log and to match on. */
export type VectorStoreErrorCode =
  | 'vector_invalid_input'
  | 'vector_dimension_mismatch'
  | 'vector_collection_missing'
  | 'vector_write_conflict'
  | 'vector_store_unavailable'
  | 'vector_store_closed'
  | 'vector_store_failed';

/**
 * A vector-store failure that knows whether trying again can help. It has the
 * same `code`/`retryable`/`cause` shape as the queues' `AppError` without
 * depending on that package, so the worker wrapper can classify it.
 */
export class VectorStoreError extends Error {
  readonly code: VectorStoreErrorCode;
  readonly retryable: boolean;

  constructor(code: VectorStoreErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'VectorStoreError';
    this.code = code;
    this.retryable = opts.retryable ?? defaultRetryable(code);
  }
}

function defaultRetryable(code: VectorStoreErrorCode): boolean {
  switch (code) {
    case 'vector_write_conflict':
    case 'vector_store_unavailable':
    case 'vector_store_failed':
      return true;
    case 'vector_invalid_input':
    case 'vector_dimension_mismatch':
    case 'vector_collection_missing':
    case 'vector_store_closed':
      return false;
  }
}

/** The message of anything thrown, for classification by text (native errors carry no codes). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
