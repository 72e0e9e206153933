import { AppError } from '@kbflow/errors';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** Why a provider call failed: stable codes that cross the queue in the error's data. */
export type ProviderErrorCode = 'provider_rate_limited' | 'provider_unavailable' | 'provider_timeout' | 'provider_rejected' | 'provider_bad_response';

/**
 * Thrown for provider failures; carries HTTP status and, for 429, the
 * Retry-After delay. `retryable` says whether the same request can succeed
 * later (rate limits, 5xx, resets, timeouts) or never will (bad request,
 * bad key, unknown model).
 */
export class ProviderError extends AppError {
  declare readonly code: ProviderErrorCode;

  constructor(code: ProviderErrorCode, message: string, opts: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(code, message, opts);
  }
}

/**
 * The delay a response asks for, in milliseconds: `retry-after-ms` (sent by
 * OpenAI and Azure), else `Retry-After` as seconds or as an HTTP date.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  const millis = headers?.get('retry-after-ms');
  if (millis != null && millis.trim() !== '') {
    const value = Number(millis);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const retryAfter = headers?.get('retry-after')?.trim();
  if (retryAfter == null || retryAfter === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Maps whatever the OpenAI SDK threw to a {@link ProviderError}. 429, 408,
 * 409, 5xx, connection failures and timeouts are retryable (the SDK's own
 * retry list); other 4xx are not: the same request will fail the same way.
 * `timedOut` says the caller's own deadline signal fired.
 */
export function toProviderError(error: unknown, operation: string, opts: { timedOut?: boolean } = {}): ProviderError {
  if (error instanceof ProviderError) return error;
  if (opts.timedOut === true || error instanceof APIConnectionTimeoutError) {
    return new ProviderError('provider_timeout', `${operation} timed out`, { retryable: true, cause: error });
  }
  if (error instanceof APIUserAbortError) {
    return new ProviderError('provider_unavailable', `${operation} was aborted`, { retryable: false, cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError('provider_unavailable', `${operation} could not reach the provider: ${error.message}`, {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const retryAfterMs = parseRetryAfter(error.headers);
    const base = { status, cause: error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    const message = `${operation} failed: ${error.message}`;
    if (status === 429) return new ProviderError('provider_rate_limited', message, { ...base, retryable: true });
    if (status >= 500 || status === 408 || status === 409) {
      return new ProviderError('provider_unavailable', message, { ...base, retryable: true });
    }
    return new ProviderError('provider_rejected', message, { ...base, retryable: false });
  }
  // Anything else (a body that is not JSON, a proxy cutting the response) is
  // most likely transient; the queue's bounded attempts cap the cost of being wrong.
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('provider_unavailable', `${operation} failed: ${message}`, { retryable: true, cause: error });
}
