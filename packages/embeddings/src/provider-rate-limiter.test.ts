import { describe, expect, it } from '@jest/globals';
import { exhaustedFor, parseResetDuration } from './provider-rate-limiter.ts';
import { batchByTokens } from './rate-limited-models.ts';

describe('parseResetDuration (x-ratelimit-reset-*)', () => {
  it("reads OpenAI's forms and plain seconds", () => {
    expect(parseResetDuration('1s')).toBe(1000);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('20ms')).toBe(20);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('0.25')).toBe(250);
  });

  it('refuses what it cannot read, and anything long, in linear time', () => {
    for (const bad of ['', 'soon', 's', '1x', '5m5m', 'ms', undefined, null]) expect(parseResetDuration(bad)).toBeUndefined();
    expect(parseResetDuration(`${'1'.repeat(100_000)}s`)).toBeUndefined();
  });
});

describe('exhaustedFor', () => {
  it('holds until the later reset of the limits that are spent, and not at all otherwise', () => {
    expect(
      exhaustedFor(
        new Headers({
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '2s',
          'x-ratelimit-remaining-tokens': '0',
          'x-ratelimit-reset-tokens': '3s',
        }),
      ),
    ).toBe(3000);
    expect(exhaustedFor(new Headers({ 'x-ratelimit-remaining-requests': '4', 'x-ratelimit-reset-requests': '2s' }))).toBeUndefined();
    expect(exhaustedFor(undefined)).toBeUndefined();
  });
});

describe('batchByTokens', () => {
  it('keeps the order and puts at most maxTokens (characters / 4) in a batch; a text over it goes alone', () => {
    const texts = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(400), 'e'];
    expect(batchByTokens(texts, 20).map((b) => b.map((t) => t[0]).join(''))).toEqual(['ab', 'c', 'd', 'e']);
    expect(batchByTokens(texts, 20).flat()).toEqual(texts);
    expect(batchByTokens([], 20)).toEqual([]);
  });
});
