import { Parser } from 'htmlparser2';

/** One `<url>` of a sitemap. */
export interface SitemapEntry {
  url: string;
  /** `<lastmod>` as written (W3C datetime), when present. */
  lastmod?: string;
}

export interface ParsedSitemap {
  /** `<urlset>`'s pages. */
  urls: SitemapEntry[];
  /** `<sitemapindex>`'s child sitemaps. */
  sitemaps: string[];
}

/** Longest `<loc>` or `<lastmod>` kept; the sitemaps protocol caps URLs at 2,048 characters. */
const MAX_TEXT = 2048;

/**
 * Reads a sitemap or a sitemap index (sitemaps.org protocol). htmlparser2 in
 * XML mode, already kbflow's HTML parser, is a streaming tokenizer: it keeps
 * no document tree, never resolves entities beyond XML's five or loads a DTD
 * (so no entity-expansion bombs), and stops taking entries at `maxEntries`,
 * so a hostile sitemap costs at most its (capped) bytes in one pass.
 */
export function parseSitemap(xml: string, maxEntries: number): ParsedSitemap {
  const out: ParsedSitemap = { urls: [], sitemaps: [] };
  let entry: 'url' | 'sitemap' | undefined;
  let field: 'loc' | 'lastmod' | undefined;
  let loc = '';
  let lastmod = '';
  const full = () => out.urls.length + out.sitemaps.length >= maxEntries;
  const parser = new Parser(
    {
      onopentag(name) {
        // Namespaced documents (`<sm:url>`) use the local name.
        const local = name.slice(name.indexOf(':') + 1).toLowerCase();
        if (local === 'url' || local === 'sitemap') {
          entry = local;
          loc = '';
          lastmod = '';
        } else if (entry && (local === 'loc' || local === 'lastmod')) field = local;
      },
      ontext(text) {
        if (field === 'loc' && loc.length < MAX_TEXT) loc += text;
        else if (field === 'lastmod' && lastmod.length < 64) lastmod += text;
      },
      onclosetag(name) {
        const local = name.slice(name.indexOf(':') + 1).toLowerCase();
        if (local === 'loc' || local === 'lastmod') field = undefined;
        else if (local === entry) {
          const url = loc.trim();
          if (url && url.length <= MAX_TEXT && !full()) {
            if (entry === 'sitemap') out.sitemaps.push(url);
            else out.urls.push(lastmod.trim() ? { url, lastmod: lastmod.trim().slice(0, 64) } : { url });
          }
          entry = undefined;
          if (full()) parser.pause();
        }
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  return out;
}
