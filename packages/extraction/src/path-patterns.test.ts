import { describe, expect, it } from '@jest/globals';
import { compilePathPatterns, pathAllowed, pathPatternError } from './path-patterns.ts';

const url = (path: string) => new URL(`http://docs.test${path}`);

describe('path patterns', () => {
  it('with no patterns, every path passes', () => {
    expect(pathAllowed(url('/anything?x=1'), compilePathPatterns())).toBe(true);
  });

  it('includes only paths matching an include pattern, and drops those matching an exclude pattern', () => {
    const patterns = compilePathPatterns(['^/docs/', '^/guide$'], ['/internal/', '\\.pdf$']);
    expect(pathAllowed(url('/docs/a.html'), patterns)).toBe(true);
    expect(pathAllowed(url('/guide'), patterns)).toBe(true);
    expect(pathAllowed(url('/guide/x'), patterns)).toBe(false);
    expect(pathAllowed(url('/blog/a.html'), patterns)).toBe(false);
    expect(pathAllowed(url('/docs/internal/a.html'), patterns)).toBe(false);
    expect(pathAllowed(url('/docs/a.pdf'), patterns)).toBe(false);
  });

  it('matches the query string too', () => {
    expect(pathAllowed(url('/list?page=2'), compilePathPatterns([], ['[?&]page=']))).toBe(false);
  });

  it('refuses what RE2 does not compile: unbalanced groups, lookaround, backreferences', () => {
    expect(pathPatternError('^/docs/')).toBeUndefined();
    expect(pathPatternError('(a')).toMatch(/missing closing/);
    expect(pathPatternError('(?=a)')).toMatch(/unsupported/);
    expect(pathPatternError('(a)\\1')).toBeDefined();
  });

  it('matches a catastrophic-backtracking pattern in linear time (RE2 semantics)', () => {
    const patterns = compilePathPatterns(['^/(a+)+$']);
    expect(pathAllowed(url(`/${'a'.repeat(50_000)}b`), patterns)).toBe(false);
  });
});
