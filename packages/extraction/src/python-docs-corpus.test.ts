import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from '@jest/globals';

import { chunkMarkdown } from './chunk-markdown.ts';
import { type ExtractedPage, extractPage } from './extract-page.ts';
import { closesFence, fenceOpenedBy } from './fences.ts';
import { sha256Hex } from './hash.ts';
import { normalizeUrl } from './url.ts';

/** The Python 3.11 docs beside the repository (`../shared/data`), never copied in. */
const CORPUS = path.resolve(import.meta.dirname, '../../../../shared/data/docs-corpus/python-3.11-html');
const DOCS = 'https://docs.python.org/3.11/';

/** Lists of links with little or no prose of their own. */
const INDEX_PAGE_RE = /^(genindex|py-modindex|search)/;

/** Sphinx chrome that must never reach the content: sidebar, related bar, search box, permalinks. */
const CHROME_MARKERS = ['Previous topic', 'Next topic', 'This Page', 'Show Source', 'Report a Bug', 'Quick search', 'Found a bug', '¶'];

// Extracting all 530 pages takes seconds, more on a busy machine.
const CORPUS_TIMEOUT_MS = 300_000;

describe('the Python 3.11 docs corpus', () => {
  const files = readdirSync(CORPUS, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.html'))
    .sort();
  const pages = new Map<string, ExtractedPage>();

  beforeAll(() => {
    for (const file of files) pages.set(file, extractPage(readFileSync(path.join(CORPUS, file), 'utf8'), `${DOCS}${file}`));
  }, CORPUS_TIMEOUT_MS);

  /** The files whose page fails `check`, so a failure names every offending page. */
  function failing(check: (page: ExtractedPage, file: string) => boolean): string[] {
    return files.filter((file) => !check(pages.get(file)!, file));
  }

  it('extracts all 530 pages without throwing', () => {
    expect(files).toHaveLength(530);
    expect(pages.size).toBe(530);
  });

  it('gives every non-index page non-empty Markdown and text', () => {
    const contentPages = files.filter((file) => !INDEX_PAGE_RE.test(file));
    expect(contentPages.length).toBeGreaterThan(490);
    expect(failing((page, file) => INDEX_PAGE_RE.test(file) || (page.markdown.length > 200 && page.text.length > 100))).toEqual([]);
  });

  it('titles every page from its <title> and reads lang="en"', () => {
    expect(failing((page) => page.title.endsWith('— Python 3.11.2 documentation') || page.title === '3.11.2 Documentation')).toEqual([]);
    expect(failing((page) => page.language === 'en')).toEqual([]);
  });

  it('leaves the Sphinx chrome out of every page', () => {
    for (const marker of CHROME_MARKERS) {
      expect([marker, failing((page) => !page.markdown.includes(marker) && !page.text.includes(marker))]).toEqual([marker, []]);
    }
  });

  it('keeps interactive examples as fenced code, never as escaped prose', () => {
    expect(failing((page) => !page.markdown.includes('\\>>>'))).toEqual([]);
    expect(files.filter((file) => pages.get(file)!.markdown.includes('```python\n>>> ')).length).toBeGreaterThan(140);
  });

  it('collects normalized, unique http(s) links on every page', () => {
    expect(failing((page) => page.links.length > 5)).toEqual([]);
    expect(failing((page) => new Set(page.links).size === page.links.length && page.links.every((link) => normalizeUrl(link) === link))).toEqual([]);
  });

  it('flags only the search page, whose results need JavaScript', () => {
    expect(failing((page) => !page.needsJavaScript)).toEqual(['search.html']);
  });

  it('chunks every page within the limits, in order, with balanced code fences', () => {
    const problems: string[] = [];
    let chunkCount = 0;
    for (const file of files) {
      const chunks = chunkMarkdown(pages.get(file)!.markdown);
      chunkCount += chunks.length;
      chunks.forEach((chunk, i) => {
        if (chunk.position !== i) problems.push(`${file}#${i}: position ${chunk.position}`);
        if (chunk.charCount > 1500 || chunk.charCount !== chunk.text.length) problems.push(`${file}#${i}: ${chunk.charCount} chars`);
        if (chunk.hash !== sha256Hex(chunk.text)) problems.push(`${file}#${i}: hash`);
        if (chunk.heading !== '' && !chunk.text.startsWith(`${chunk.heading}\n\n`)) problems.push(`${file}#${i}: breadcrumb`);
        let fence: string | null = null;
        for (const line of chunk.text.split('\n')) {
          if (fence === null) fence = fenceOpenedBy(line);
          else if (closesFence(line, fence)) fence = null;
        }
        if (fence !== null) problems.push(`${file}#${i}: unclosed fence`);
      });
    }
    expect(problems).toEqual([]);
    expect(chunkCount).toBeGreaterThan(10_000);
  });
});
