import { describe, expect, it } from '@jest/globals';
import { rateLimitHeaders } from './tenant-rate-limits.ts';

describe('rateLimitHeaders', () => {
  it('an allowed call carries the three RateLimit fields and no Retry-After', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 100, remaining: 99, resetSeconds: 3599 })).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '99',
      'RateLimit-Reset': '3599',
    });
  });

  it('a refused call adds Retry-After, equal to the reset', () => {
    expect(rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetSeconds: 42 })).toEqual({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '42',
      'Retry-After': '42',
    });
  });
});
