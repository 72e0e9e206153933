import { describe, expect, it } from '@jest/globals';
import { AppError } from '@kbflow/errors';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { BreakerOpenError, countsAsFailure, DependencyBreaker } from './dependency-breaker.ts';

const make = (failureThreshold = 3, resetTimeoutMs = 200) =>
  new DependencyBreaker({ name: 'dep', failureThreshold, resetTimeoutMs, registry: new Registry(), log: pino({ level: 'silent' }), service: 'test' });

const fail =
  (props: object = {}) =>
  () =>
    Promise.reject(Object.assign(new Error('boom'), props));

describe('DependencyBreaker', () => {
  it('opens after the threshold of failures and then rejects without calling', async () => {
    const breaker = make(3);
    for (let i = 0; i < 3; i++) await expect(breaker.run(fail())).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
    let called = false;
    const error = await breaker.run(async () => (called = true)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect((error as BreakerOpenError).retryAfterMs).toBeGreaterThan(0);
    expect((error as BreakerOpenError).code).toBe('breaker_open');
    expect(called).toBe(false);
    await breaker.close();
  });

  it('opens at exactly the threshold of consecutive failures, not before', async () => {
    const breaker = make(3);
    for (let i = 0; i < 2; i++) await expect(breaker.run(fail())).rejects.toThrow('boom');
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(fail())).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
    await breaker.close();
  });

  it('starts the count again after a success', async () => {
    const breaker = make(3);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 2; i++) await expect(breaker.run(fail())).rejects.toThrow('boom');
      await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
    }
    expect(breaker.state).toBe('closed');
    await breaker.close();
  });

  it('does not count the failures of calls in flight when it opened towards the next opening', async () => {
    const breaker = make(3, 100);
    const slowFailure = () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 20));
    // Five at once: the third failure opens it, the other two fail while it is open.
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => breaker.run(slowFailure)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(breaker.state).toBe('open');
    await new Promise((r) => setTimeout(r, 150));
    await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 2; i++) await expect(breaker.run(fail())).rejects.toThrow('boom');
    expect(breaker.state).toBe('closed');
    await breaker.close();
  });

  it('reopens when the half-open probe fails', async () => {
    const breaker = make(2, 100);
    for (let i = 0; i < 2; i++) await expect(breaker.run(fail())).rejects.toThrow('boom');
    await new Promise((r) => setTimeout(r, 150));
    expect(breaker.state).toBe('half-open');
    await expect(breaker.run(fail())).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
    await breaker.close();
  });

  it('lets one probe through after the reset timeout and closes when it succeeds', async () => {
    const breaker = make(2, 150);
    for (let i = 0; i < 2; i++) await expect(breaker.run(fail())).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect(breaker.state).toBe('half-open');
    await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    await breaker.close();
  });

  it('does not count rate limits or rejected requests as failures', async () => {
    const breaker = make(2);
    for (let i = 0; i < 5; i++) {
      await expect(breaker.run(() => Promise.reject(new AppError('provider_rate_limited', '429', { status: 429, retryAfterMs: 1000 })))).rejects.toThrow();
      await expect(breaker.run(() => Promise.reject(new AppError('provider_rejected', '400', { retryable: false, status: 400 })))).rejects.toThrow();
    }
    expect(breaker.state).toBe('closed');
    await breaker.close();
  });

  it('classifies errors', () => {
    expect(countsAsFailure(new Error('ECONNRESET'))).toBe(true);
    expect(countsAsFailure(new AppError('provider_unavailable', '503', { retryable: true, status: 503 }))).toBe(true);
    expect(countsAsFailure(new AppError('provider_rate_limited', '429', { retryable: true, status: 429 }))).toBe(false);
    expect(countsAsFailure(new AppError('provider_rejected', '401', { retryable: false, status: 401 }))).toBe(false);
  });
});
