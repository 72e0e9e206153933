import { describe, expect, it } from '@jest/globals';
import { chunkMarkdown } from './chunk-markdown.ts';
import { extractPage } from './extract-page.ts';
import { isTableDelimiterRow, parseAtxHeading, trimEndOf, trimStartOf } from './linear-text.ts';
import { stripLinkTargets } from './retrieval-text.ts';

/** The largest record body the API accepts (RECORD_LIMITS.bodyMax), the size every worst case below is built to. */
const MAX_BODY = 1_000_000;
/** The largest page the scraper reads by default (KBFLOW_MAX_PAGE_BYTES). */
const MAX_PAGE = 5 * 1024 * 1024;

// The pattern chunkMarkdown used before (kbflow issue 14, item 2), kept here
// only to check that the scanner reads ordinary headings the same way.
const OLD_HEADING_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;

describe('parseAtxHeading', () => {
  it.each([
    '# Title',
    '### 5.1. More on Lists',
    '  ## Indented',
    '#',
    '##   spaced   ',
    '# closed ##',
    '# C#',
    '#\tTabbed',
    '####### seven',
    '#5 bolt',
    '    # four spaces is code',
    'plain text',
    '## [Link](http://x) text #',
  ])('reads %j as the earlier pattern did', (line) => {
    const old = OLD_HEADING_RE.exec(line);
    const parsed = parseAtxHeading(line);
    expect(parsed).toEqual(old ? { level: old[1]!.length, text: old[2] ?? '' } : undefined);
  });

  it('reads a heading of only a closing sequence as empty, as CommonMark says (the earlier pattern kept "###")', () => {
    expect(parseAtxHeading('### ###')).toEqual({ level: 3, text: '' });
  });
});

describe('small scanners', () => {
  it('trim a chosen set of characters and recognise table delimiter rows', () => {
    expect(trimEndOf('Title.:; ', ' .:;')).toBe('Title');
    expect(trimStartOf('"(quoted', '"(')).toBe('quoted');
    expect(isTableDelimiterRow('| --- | :---: | ---: |')).toBe(true);
    expect(isTableDelimiterRow('---|---')).toBe(true);
    expect(isTableDelimiterRow('| -- | --- |')).toBe(false);
    expect(isTableDelimiterRow('| a | b |')).toBe(false);
  });
});

// Each input below is what recheck (test/static) or the issue found to make
// the earlier patterns backtrack quadratically or cubically, at the largest
// size the API or the scraper accepts. These tests assert the results; that
// they finish at all (within jest's timeout, at a million characters) is what
// the earlier patterns could not do.
describe('worst-case inputs of the largest allowed size', () => {
  const spaces = ' '.repeat(MAX_BODY - 4);

  it('a heading line of spaces that ends in a line separator (the issue: 10,000 spaces took 350 s)', () => {
    const chunks = chunkMarkdown(`#${spaces}a\u2028\n\nThe text of the section, long enough to be kept as a chunk.`);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.heading).toBe('a');
  });

  it('heading text made of brackets, escapes and asterisks', () => {
    for (const body of ['['.repeat(MAX_BODY), '[\\'.repeat(MAX_BODY / 2), '*a'.repeat(MAX_BODY / 2), '**'.repeat(MAX_BODY / 2)]) {
      const [chunk] = chunkMarkdown(`# ${body.slice(0, MAX_BODY - 2)}\n\nSome text under the heading that is long enough to keep.`);
      expect(chunk!.text.endsWith('Some text under the heading that is long enough to keep.')).toBe(true);
    }
  });

  it('a table whose delimiter row is a million spaces and a stray character', () => {
    const chunks = chunkMarkdown(`| a | b |\n|${spaces}x\n| 1 | 2 |`);
    expect(chunks.map((c) => c.text).join('')).toContain('| 1 | 2 |');
  });

  it('prose with a million closing brackets after a full stop, or a million spaces, split at sentences', () => {
    for (const body of [`Word.${')'.repeat(MAX_BODY - 10)} next`, `Word. ${'\t'.repeat(MAX_BODY - 10)}`, `${'a. '.repeat(MAX_BODY / 3)}`]) {
      const chunks = chunkMarkdown(body);
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every((c) => c.text.length <= 1500)).toBe(true);
    }
  });

  it('link syntax that never closes, for stripLinkTargets', () => {
    expect(stripLinkTargets('['.repeat(MAX_BODY))).toBe('['.repeat(MAX_BODY));
    expect(stripLinkTargets('!['.repeat(MAX_BODY / 2))).toHaveLength(MAX_BODY);
    expect(stripLinkTargets(`[a](${'x'.repeat(MAX_BODY - 4)}`)).toHaveLength(MAX_BODY);
    expect(stripLinkTargets('[a](b'.repeat(MAX_BODY / 5))).toHaveLength(MAX_BODY);
    expect(stripLinkTargets('<http://'.repeat(MAX_BODY / 8))).toHaveLength(MAX_BODY);
    // Ordinary links still lose their targets.
    expect(stripLinkTargets('See [the docs](https://x.test/a_(b) "T") and ![logo](l.png) <https://x.test>.')).toBe('See the docs and logo .');
  });

  it('a page of the largest size with a preformatted block of blank lines and spaces, and a table cell of tabs', () => {
    const half = Math.floor(MAX_PAGE / 2) - 200;
    const html = `<html><body><main><h1>T</h1><pre>${'\n'.repeat(half)}x${' '.repeat(half / 2)}y${' '.repeat(half / 2)}</pre><table><tr><th>h</th><th>i</th></tr><tr><td>${'\t'.repeat(100_000)}z</td><td>w</td></tr></table><noscript>${'enable '.repeat(200_000)}</noscript></main></body></html>`;
    expect(html.length).toBeLessThanOrEqual(MAX_PAGE + 1_500_000);
    const page = extractPage(html, 'https://example.test/');
    expect(page.markdown).toContain('z');
    expect(page.markdown).toMatch(/x {10,}y/);
  }, 60_000);
});
