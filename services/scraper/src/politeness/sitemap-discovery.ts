import { gunzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { parseSitemap, type SitemapEntry } from '../domain/sitemap-parser.ts';
import type { FetchResource } from './robots-cache.ts';

/** An index's sitemaps are read, a sitemap inside them is not an index again (the protocol allows one level). */
const MAX_NESTING = 2;

export interface SitemapLimits {
  /** Bytes of one sitemap read at most (after gunzip). */
  maxBytes: number;
  /** Sitemap files fetched at most, indexes included. */
  maxFiles: number;
  /** Page URLs collected at most (a crawl passes what is left of its maxPages). */
  maxUrls: number;
}

/**
 * The pages a site's sitemaps list, breadth first from `starts` (robots.txt's
 * `Sitemap:` lines and `/sitemap.xml`), only on `origin`: bounded in files,
 * bytes, nesting and URLs, so a hostile sitemap costs a few capped reads. A
 * sitemap that is missing, unreadable or not XML is skipped; the crawl goes
 * on from its links.
 */
export async function discoverSitemapUrls(
  origin: string,
  starts: string[],
  fetchResource: FetchResource,
  limits: SitemapLimits,
  log: Logger,
): Promise<SitemapEntry[]> {
  const seen = new Set<string>();
  const found = new Map<string, SitemapEntry>();
  let level = starts.filter((s) => sameOrigin(s, origin));
  let files = 0;
  for (let depth = 0; depth < MAX_NESTING && level.length > 0 && found.size < limits.maxUrls; depth++) {
    const next: string[] = [];
    for (const url of level) {
      if (seen.has(url) || files >= limits.maxFiles || found.size >= limits.maxUrls) continue;
      seen.add(url);
      files++;
      const xml = await readSitemap(url, fetchResource, limits.maxBytes, log);
      if (xml === undefined) continue;
      const parsed = parseSitemap(xml, limits.maxUrls - found.size + limits.maxFiles);
      for (const entry of parsed.urls) {
        if (found.size >= limits.maxUrls) break;
        if (sameOrigin(entry.url, origin) && !found.has(entry.url)) found.set(entry.url, entry);
      }
      next.push(...parsed.sitemaps.filter((s) => sameOrigin(s, origin)));
    }
    level = next;
  }
  return [...found.values()];
}

async function readSitemap(url: string, fetchResource: FetchResource, maxBytes: number, log: Logger): Promise<string | undefined> {
  try {
    const res = await fetchResource(url, maxBytes);
    if (res.status < 200 || res.status >= 300) return undefined;
    let body = res.body;
    // Gzip by its magic bytes: `.xml.gz` files come as application/gzip or octet-stream.
    if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body, { maxOutputLength: maxBytes });
    return body.toString('utf8');
  } catch (error) {
    log.info({ url, err: (error as Error).message }, 'sitemap skipped');
    return undefined;
  }
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
