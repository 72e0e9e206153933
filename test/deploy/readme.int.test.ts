// The README stays a newcomer's first read (issue 16): short, the two
// commands first, and every relative link in it and in docs/ resolving to a
// file (and heading) that exists. docs/configuration.md documents every
// variable the code reads, from the env schemas themselves.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@kbflow/testing';
import { allProgramKeys, cliKeys, undocumented } from './support/env-schemas.ts';
import { brokenLinks, headingAnchors, headingSlug, markdownLinks } from './support/markdown-links.ts';

const README = path.join(REPO_ROOT, 'README.md');
const DOCS = path.join(REPO_ROOT, 'docs');
const readme = readFileSync(README, 'utf8');
const pages = [
  README,
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(DOCS, f)),
];
const rel = (file: string) => path.relative(REPO_ROOT, file);

describe('README.md', () => {
  it('is at most 350 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(350);
  });

  it('starts with the two commands: its first code block, within the first 15 lines, is ./kbflow up then ./kbflow test', () => {
    const lines = readme.split('\n');
    const open = lines.findIndex((l) => l.startsWith('```'));
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThan(15);
    expect(lines[open + 1]).toMatch(/^\.\/kbflow up\b/);
    expect(lines[open + 2]).toMatch(/^\.\/kbflow test\b/);
  });

  it('links every page of docs/ from the docs index, and the index from the README', () => {
    const index = path.join(DOCS, 'README.md');
    const linked = new Set(markdownLinks(index, readFileSync(index, 'utf8')).map((l) => l.target.split('#')[0]));
    const unlinked = readdirSync(DOCS).filter((f) => f.endsWith('.md') && f !== 'README.md' && !linked.has(f));
    expect(unlinked).toEqual([]);
    expect(markdownLinks(README, readme).map((l) => l.target)).toContain('docs/README.md');
  });
});

describe('links in README.md and docs/*.md', () => {
  it('every relative link points to an existing file, and every anchor to a heading of that page', () => {
    const links = pages.flatMap((file) => markdownLinks(file, readFileSync(file, 'utf8')));
    expect(links.length).toBeGreaterThan(50);
    expect(brokenLinks(links).map((p) => p.replace(`${REPO_ROOT}/`, ''))).toEqual([]);
  });

  it('every page closes the code blocks it opens', () => {
    const unbalanced = pages.filter(
      (file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trimStart().startsWith('```')).length %
          2 !==
        0,
    );
    expect(unbalanced.map(rel)).toEqual([]);
  });

  it('a missing file or anchor is reported, a good one is not', () => {
    const file = path.join(DOCS, 'scratch.md');
    const links = markdownLinks(
      file,
      [
        'See [ops](operations.md#backups), [gone](nowhere.md), [bad anchor](operations.md#no-such-heading).',
        '`[code](not-a-link.md)`',
        '```',
        '[fenced](also-not.md)',
        '```',
      ].join('\n'),
    );
    expect(links.map((l) => l.target)).toEqual(['operations.md#backups', 'nowhere.md', 'operations.md#no-such-heading']);
    expect(brokenLinks(links).map((p) => p.replace(`${REPO_ROOT}/`, ''))).toEqual([
      'docs/scratch.md:1 -> nowhere.md: no such file',
      'docs/scratch.md:1 -> operations.md#no-such-heading: no heading makes #no-such-heading',
    ]);
  });

  it("anchors are GitHub's: punctuation dropped, repeats numbered", () => {
    expect(headingSlug('What happens when...')).toBe('what-happens-when');
    expect(headingSlug('Documents (PDF, DOCX, Markdown, text)')).toBe('documents-pdf-docx-markdown-text');
    expect(headingSlug('`@kbflow/client`: the typed client')).toBe('kbflowclient-the-typed-client');
    expect([...headingAnchors('# A\n## B\n```\n# not a heading\n```\n## B\n')]).toEqual(['a', 'b', 'b-1']);
  });
});

describe('docs/configuration.md', () => {
  it('has a row for every variable a service, the migration or the CLI reads', () => {
    const text = readFileSync(path.join(DOCS, 'configuration.md'), 'utf8');
    const rowKeys = text
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string));
    expect(undocumented([...allProgramKeys(), ...cliKeys()], rowKeys)).toEqual([]);
    expect(undocumented(rowKeys, allProgramKeys(), cliKeys())).toEqual([]);
  });
});
