import { describe, expect, it } from '@jest/globals';
import { AppError, isPermanent, PermanentError } from './app-error.ts';
import { decodeError, describeError, encodeError, toErrorData, UNCLASSIFIED } from './error-data.ts';

class ExampleError extends PermanentError {
  constructor() {
    super('example_refused', 'refused', { status: 403 });
  }
}

describe('AppError', () => {
  it('is retryable unless it says otherwise, and names itself after its class', () => {
    const transient = new AppError('fetch_failed', 'reset');
    expect([transient.retryable, transient.name, isPermanent(transient)]).toEqual([true, 'AppError', false]);
    const permanent = new ExampleError();
    expect([permanent.retryable, permanent.name, isPermanent(permanent), permanent instanceof AppError]).toEqual([false, 'ExampleError', true, true]);
  });

  it('classifies by class, never by fields: a look-alike object is not permanent', () => {
    expect(isPermanent({ retryable: false, code: 'x' })).toBe(false);
    expect(isPermanent(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
  });

  it('says rate-limited for a 429 only', () => {
    expect(new AppError('provider_rate_limited', 'x', { status: 429 }).rateLimited).toBe(true);
    expect(new AppError('provider_unavailable', 'x', { status: 503, retryAfterMs: 1000 }).rateLimited).toBe(false);
  });
});

describe('ErrorData across the queue', () => {
  it('round-trips code, message, retryable, retry-after and status through a failedReason', () => {
    const error = new AppError('provider_rate_limited', 'slow down: a "quoted" word\nand a second line', { status: 429, retryAfterMs: 2500 });
    expect(decodeError(encodeError(error))).toEqual({
      code: 'provider_rate_limited',
      message: 'slow down: a "quoted" word\nand a second line',
      retryable: true,
      retryAfterMs: 2500,
      status: 429,
    });
  });

  it("gives an error that is not kbflow's the unclassified code, keeping its message", () => {
    expect(toErrorData(new TypeError('x is undefined'))).toEqual({ code: UNCLASSIFIED, message: 'x is undefined', retryable: true });
    expect(toErrorData('a string')).toEqual({ code: UNCLASSIFIED, message: 'a string', retryable: true });
  });

  it('keeps a reason it did not write whole: BullMQ\'s own, text that looks like JSON, or an older "code: message"', () => {
    for (const reason of ['job stalled more than allowable limit', '{not json', '{"code":1}', 'http_status: https://x.test/ answered 404']) {
      expect(decodeError(reason)).toEqual({ code: UNCLASSIFIED, message: reason, retryable: true });
    }
    expect(decodeError(undefined)).toEqual({ code: UNCLASSIFIED, message: '', retryable: true });
  });

  it('describes an error for people as code: message, a foreign one by its message alone', () => {
    expect(describeError(new ExampleError())).toBe('example_refused: refused');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
