import { describe, expect, it } from '@jest/globals';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ProviderError, parseRetryAfter, toProviderError } from './provider-error.ts';

const apiError = (status: number, headers: Record<string, string> = {}): APIError =>
  APIError.generate(status, { error: { message: `status ${status}` } }, undefined, new Headers(headers));

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads seconds, fractional seconds, an HTTP date and retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now)).toBe(7000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '1234', 'retry-after': '9' }), now)).toBe(1234);
  });

  it('gives 0 for a date in the past and undefined for nothing or nonsense', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('toProviderError', () => {
  it('makes a 429 retryable with the delay it asked for', () => {
    const error = toProviderError(apiError(429, { 'retry-after': '2' }), 'embedding');
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_rate_limited', status: 429, retryAfterMs: 2000, retryable: true });
  });

  it('makes 5xx, 408, 409, connection errors and timeouts retryable', () => {
    for (const status of [500, 502, 503, 408, 409]) {
      expect(toProviderError(apiError(status), 'x')).toMatchObject({ status, retryable: true });
    }
    expect(toProviderError(new APIConnectionError({ message: 'reset' }), 'x')).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
      status: undefined,
    });
    expect(toProviderError(new APIConnectionTimeoutError(), 'x')).toMatchObject({ code: 'provider_timeout', retryable: true });
  });

  it('makes 400, 401, 403, 404 and 422 permanent', () => {
    for (const status of [400, 401, 403, 404, 422]) {
      expect(toProviderError(apiError(status), 'x')).toMatchObject({ code: 'provider_rejected', status, retryable: false });
    }
  });

  it('keeps the cause and passes a ProviderError through unchanged', () => {
    const cause = apiError(401);
    const error = toProviderError(cause, 'embedding 3 texts');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('embedding 3 texts failed: 401 status 401');
    expect(toProviderError(error, 'again')).toBe(error);
  });
});
