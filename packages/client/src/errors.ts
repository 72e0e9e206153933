/** The API's error body: `{"error": {"code", "message", "field"?}}`. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An answer of 400 or more, with the API's error code and the field it names. */
export class KbflowApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** The whole body as the API sent it (bulk endpoints add row errors). */
  readonly body: unknown;

  constructor(status: number, body: unknown, what: string) {
    const error = (body as Partial<ApiErrorBody> | undefined)?.error;
    super(`${what} answered ${status}: ${error?.message ?? 'no error message'}${error?.field ? ` (field ${error.field})` : ''}`);
    this.name = 'KbflowApiError';
    this.status = status;
    this.code = error?.code ?? 'unknown';
    this.field = error?.field;
    this.body = body;
  }
}
