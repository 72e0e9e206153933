import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from '@kbflow/testing';
import { AbsentError } from '../absent-error.ts';

/** A documentation site of `../shared/data/docs-corpus` and the crawl the benchmark makes of it. */
export interface Corpus {
  /** Folder name under docs-corpus, also the figures' key. */
  name: string;
  /** What kind of site it is, for the report. */
  description: string;
  root: string;
  seed: string;
  maxDepth: number;
}

/**
 * The two crawl corpora: small pages with many dead links (SQLite) and large
 * Sphinx pages with index pages of thousands of links (Python). Each crawl
 * covers a complete link neighbourhood (no page cap), so both crawlers
 * fetch exactly the same pages.
 */
export const CRAWL_CORPORA: readonly Corpus[] = [
  {
    name: 'sqlite-3.40-html',
    description: 'the SQLite 3.40 documentation (757 pages, median 7 KB; 426 dead links to /matrix/ both crawlers request)',
    root: path.join(SHARED_DATA, 'docs-corpus/sqlite-3.40-html'),
    seed: '/index.html',
    maxDepth: 4,
  },
  {
    name: 'python-3.11-html',
    description: 'the Python 3.11 documentation (526 reachable pages, about 100 KB each, index pages of thousands of links)',
    root: path.join(SHARED_DATA, 'docs-corpus/python-3.11-html'),
    seed: '/index.html',
    maxDepth: 5,
  },
];

/** Throws the one-line AbsentError the report shows when a data folder is missing. */
export function requireData(dir: string, what: string): void {
  if (!existsSync(dir))
    throw new AbsentError(`${what}: ${path.relative(process.cwd(), dir) || dir} is not there (../shared/data beside the repository); skipped`);
}

/**
 * Questions to ask of a crawled corpus: the text of its section headings
 * (`<h2>`, `<h3>`), tags and permalink marks stripped, 15-120 characters,
 * distinct, in a fixed pseudo-random order. Read from the files with a
 * regular expression, before the crawl: the benchmark's own preparation,
 * not kbflow's extraction.
 */
export function headingQuestions(corpus: Corpus, count: number): string[] {
  const headings = new Set<string>();
  const files = readdirSync(corpus.root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.html'))
    .sort();
  for (const file of files) {
    const html = readFileSync(path.join(corpus.root, file), 'utf8');
    for (const match of html.matchAll(/<h[23][^>]*>([\s\S]{0,2000}?)<\/h[23]>/gi)) {
      const text = match[1]!
        .replace(/<[^>]*>/g, ' ')
        .replace(/&[a-z]+;|&#\d+;|¶/gi, ' ')
        .replace(/\s+/g, ' ')
        .replace(/^[\d.\s]+/, '')
        .trim();
      if (text.length >= 15 && text.length <= 120) headings.add(text);
    }
  }
  // A fixed shuffle (a linear congruential sequence), so every run asks the same questions.
  const list = [...headings].sort();
  let seed = 12345;
  for (let i = list.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list.slice(0, count);
}
