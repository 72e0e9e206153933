import { describe, expect, it } from '@jest/globals';
import { storable } from './storable-text.ts';

describe('storable', () => {
  it('drops NUL characters and replaces lone surrogates, keeping surrogate pairs', () => {
    expect(storable('a\u0000b')).toBe('ab');
    expect(storable('x\ud800y\udc00z')).toBe('x\ufffdy\ufffdz');
    expect(storable('\udc00\ud800')).toBe('\ufffd\ufffd');
    expect(storable('smile \u{1f600}')).toBe('smile \u{1f600}');
    expect(storable('\ud83d\ude00\ud83d')).toBe('\u{1f600}\ufffd');
  });

  it('cleans keys and values of nested objects and arrays, and leaves other values alone', () => {
    expect(storable({ 'k\u0000': ['v\ud800', 1, null, { deep: '\u0000' }], n: 2, b: true })).toEqual({ k: ['v\ufffd', 1, null, { deep: '' }], n: 2, b: true });
  });

  it('walks a value nested 100,000 deep without overflowing the stack, leaving the depths as they are', () => {
    const depth = 100_000;
    const deep = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`) as unknown;
    expect(() => storable({ a: deep })).not.toThrow();
    expect(storable([['x\u0000']])).toEqual([['x']]);
  });

  it('keeps a "__proto__" key as a plain field, not a prototype', () => {
    const cleaned = storable(JSON.parse('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>;
    expect(Object.keys(cleaned)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
