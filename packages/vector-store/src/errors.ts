import { AppError } from '@kbflow/errors';

/** Why a vector-store call failed; stable strings, safe to log and to match on. */
export type VectorStoreErrorCode =
  | 'vector_invalid_input'
  | 'vector_dimension_mismatch'
  | 'vector_collection_missing'
  | 'vector_write_conflict'
  | 'vector_store_unavailable'
  | 'vector_store_closed'
  | 'vector_store_failed';

/** A vector-store failure; whether trying again can help follows from its code unless said otherwise. */
export class VectorStoreError extends AppError {
  declare readonly code: VectorStoreErrorCode;

  constructor(code: VectorStoreErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(code, message, { retryable: opts.retryable ?? defaultRetryable(code), cause: opts.cause });
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
