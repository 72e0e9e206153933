// Every regular expression in the shipped code (the source of every package
// and service; benchmarks and tests are not shipped) is checked by recheck,
// a ReDoS analyzer (automata theory where it applies, seeded fuzzing
// otherwise): none may backtrack super-linearly. Request bodies and pages
// reach most of them, up to megabytes (kbflow issue 14, item 2). A pattern
// that recheck cannot prove linear but only ever sees bounded input is
// listed in BOUNDED with where the bound is; the list must stay exact.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@kbflow/testing';
import { checkSync } from 'recheck';
import { collectPatterns } from './regex-audit.ts';

const ROOTS = ['packages', 'services'].flatMap((dir) =>
  readdirSync(path.join(REPO_ROOT, dir)).map((name) => path.join(REPO_ROOT, dir, name, 'src')),
);

/** file (relative) and pattern source -> where its input is bounded. */
const BOUNDED: Record<string, string> = {
  // None today. An entry: '<file> <source>': '<where the input is cut to a fixed size>'.
};

/** `new RegExp(...)` with a pattern built at run time -> why no input can reach it. */
const DYNAMIC: Record<string, string> = {
  'services/api/src/http/admission.ts': 'the name is one of two constant INFO field names (used_memory, maxmemory)',
};

const { literals, dynamic } = collectPatterns(ROOTS);
const rel = (file: string) => path.relative(REPO_ROOT, file);

describe('regular expressions of the shipped code', () => {
  it('finds the patterns it checks (the collector works)', () => {
    expect(literals.length).toBeGreaterThan(100);
    expect(literals.some((p) => rel(p.file) === 'packages/extraction/src/retrieval-text.ts')).toBe(true);
  });

  it('are all linear, except the listed ones whose input is bounded', () => {
    const unsafe: string[] = [];
    for (const pattern of literals) {
      // Global and sticky only say where matching resumes; the analysis is per match.
      const result = checkSync(pattern.source, pattern.flags.replace(/[gy]/g, ''), { randomSeed: 42, timeout: 20_000 });
      if (result.status !== 'safe') unsafe.push(`${rel(pattern.file)} ${pattern.source}`);
    }
    expect(unsafe.filter((key) => !(key in BOUNDED)).map((key) => `${key}: super-linear (or not provably linear)`)).toEqual([]);
    // A listed pattern that is gone or now linear leaves the list.
    expect(Object.keys(BOUNDED).filter((key) => !unsafe.includes(key))).toEqual([]);
  }, 180_000);

  it('build no pattern from input at run time, except the listed ones', () => {
    expect(dynamic.map((d) => rel(d.file)).sort()).toEqual(Object.keys(DYNAMIC).sort());
  });

  it('would catch the patterns issue 14 found', () => {
    for (const source of ['^ {0,3}(#{1,6})(?:[ \\t]+(.*?))?(?:[ \\t]+#+)?[ \\t]*$', '^\\|?\\s*([^|]*?)\\s*\\|.*\\|?$']) {
      expect(checkSync(source, '', { randomSeed: 42 }).status).toBe('vulnerable');
    }
  });
});
