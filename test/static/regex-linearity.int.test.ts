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

const ROOTS = ['packages', 'services'].flatMap((dir) => readdirSync(path.join(REPO_ROOT, dir)).map((name) => path.join(REPO_ROOT, dir, name, 'src')));

/** file (relative) and pattern source -> where its input is bounded. */
const BOUNDED: Record<string, string> = {
  // Many alternatives with bounded gaps: linear in fact, but recheck's fuzzer
  // cannot always show it within its budget.
  'packages/extraction/src/js-detection.ts \\b(?:enable|activate|turn on|allow)\\b[^.]{0,40}\\bjavascript\\b|\\bjavascript\\b[^.]{0,40}\\b(?:required|disabled|needed|turned off)\\b|\\brequires?\\b[^.]{0,20}\\bjavascript\\b':
    'reads at most NOSCRIPT_TEXT_MAX (2,000) characters of a <noscript>',
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
      const key = `${rel(pattern.file)} ${pattern.source}`;
      if (key in BOUNDED) continue;
      // Global and sticky only say where matching resumes; the analysis is per match.
      const flags = pattern.flags.replace(/[gy]/g, '');
      let result = checkSync(pattern.source, flags, { randomSeed: 42, timeout: 20_000 });
      // `unknown` is recheck running out of time (a loaded machine), not a verdict: once more, longer.
      if (result.status === 'unknown') result = checkSync(pattern.source, flags, { randomSeed: 42, timeout: 120_000 });
      if (result.status !== 'safe') unsafe.push(`${key}: ${result.status}`);
    }
    expect(unsafe).toEqual([]);
  }, 600_000);

  it('lists as bounded only patterns that are still in the code', () => {
    const present = new Set(literals.map((p) => `${rel(p.file)} ${p.source}`));
    expect(Object.keys(BOUNDED).filter((key) => !present.has(key))).toEqual([]);
  });

  it('build no pattern from input at run time, except the listed ones', () => {
    expect(dynamic.map((d) => rel(d.file)).sort()).toEqual(Object.keys(DYNAMIC).sort());
  });

  it('would catch the patterns issue 14 found', () => {
    for (const source of ['^ {0,3}(#{1,6})(?:[ \\t]+(.*?))?(?:[ \\t]+#+)?[ \\t]*$', '^\\|?\\s*([^|]*?)\\s*\\|.*\\|?$']) {
      expect(checkSync(source, '', { randomSeed: 42 }).status).toBe('vulnerable');
    }
  });
});
