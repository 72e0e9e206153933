import { existsSync, readFileSync } from 'node:fs';
import { extractPage, normalizeUrl } from '@kbflow/extraction';
import { crawlableLinks } from '../../services/scraper/src/domain/link-filter.ts';

/**
 * The pages a same-origin crawl from `seed` can reach within `maxDepth`,
 * computed by reading the corpus files directly: the expected answer the
 * distributed crawl must match.
 */
export function reachablePages(
  root: string,
  baseUrl: string,
  seed: string,
  maxDepth: number,
): { pages: Set<string>; missing: Set<string>; notHtml: Set<string> } {
  const depthOf = new Map<string, number>([[seed, 0]]);
  const queue = [seed];
  const pages = new Set<string>();
  const missing = new Set<string>();
  const notHtml = new Set<string>();
  while (queue.length > 0) {
    const url = queue.shift()!;
    const file = root + decodeURIComponent(new URL(url).pathname);
    if (!existsSync(file)) {
      missing.add(url);
      continue;
    }
    // The test server sends text/html for .html files only; the crawler
    // records anything else as skipped (not a page).
    if (!file.endsWith('.html')) {
      notHtml.add(url);
      continue;
    }
    pages.add(url);
    const depth = depthOf.get(url)!;
    if (depth >= maxDepth) continue;
    const links = extractPage(readFileSync(file, 'utf8'), url)
      .links.map((l) => normalizeUrl(l))
      .filter((l): l is string => l !== null);
    for (const link of crawlableLinks(links, url, [new URL(baseUrl).origin])) {
      if (depthOf.has(link)) continue;
      depthOf.set(link, depth + 1);
      queue.push(link);
    }
  }
  return { pages, missing, notHtml };
}
