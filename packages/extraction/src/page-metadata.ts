import { normalizeUrl } from './url.ts';

/**
 * The URL relative links resolve against: the first `<base href>`, resolved
 * against the page URL, else the page URL. Undefined when neither parses.
 */
export function documentBaseUrl(document: Document, pageUrl: string): string | undefined {
  const page = parseUrl(pageUrl);
  const baseHref = document.getElementsByTagName('base')[0]?.getAttribute('href')?.trim();
  if (baseHref) {
    const base = parseUrl(baseHref, page?.href);
    if (base !== null) return base.href;
  }
  return page?.href;
}

/**
 * The page title: `<title>`, else `og:title`, else the first `<h1>`, else the
 * URL path (decoded), with whitespace collapsed. An `<svg>`'s `<title>` is an
 * icon label, not the page's.
 */
export function pageTitle(document: Document, pageUrl: string): string {
  const candidates = [
    () => Array.from(document.getElementsByTagName('title')).find((title) => title.closest('svg') === null)?.textContent,
    () => document.querySelector('meta[property="og:title"]')?.getAttribute('content'),
    () => document.getElementsByTagName('h1')[0]?.textContent,
  ];
  for (const candidate of candidates) {
    const title = (candidate() ?? '').replace(/\s+/g, ' ').trim();
    if (title.length > 0) return title;
  }
  const url = parseUrl(pageUrl);
  if (url === null) return pageUrl;
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

/** `<html lang>`, trimmed, or undefined when absent or empty. */
export function pageLanguage(document: Document): string | undefined {
  const lang = document.documentElement.getAttribute('lang')?.trim();
  return lang ? lang : undefined;
}

/**
 * Every `<a href>` of the whole page, navigation included (the crawler
 * follows it), resolved against `baseUrl`, normalized, http(s) only,
 * deduplicated, in document order.
 */
export function collectLinks(document: Document, baseUrl: string | undefined): string[] {
  const links = new Set<string>();
  for (const anchor of Array.from(document.getElementsByTagName('a'))) {
    const href = anchor.getAttribute('href');
    const link = href === null ? null : normalizeUrl(href, baseUrl);
    if (link !== null) links.add(link);
  }
  return [...links];
}

/**
 * Makes the links and images of the content absolute so the Markdown stands
 * on its own (fragments are kept: they point at the cited section). Links
 * that go nowhere useful (`javascript:`) lose their href and keep their
 * text; images that are not http(s) (inline `data:` blobs) are dropped.
 * Link titles are dropped too: Sphinx repeats the link text in them.
 */
export function absolutizeReferences(root: Element, baseUrl: string | undefined): void {
  for (const anchor of Array.from(root.getElementsByTagName('a'))) {
    anchor.removeAttribute('title');
    const href = anchor.getAttribute('href');
    if (href === null) continue;
    const url = parseUrl(href.trim(), baseUrl);
    if (url !== null && (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:')) {
      anchor.setAttribute('href', url.href);
    } else {
      anchor.removeAttribute('href');
    }
  }
  for (const image of Array.from(root.getElementsByTagName('img'))) {
    const url = parseUrl((image.getAttribute('src') ?? '').trim(), baseUrl);
    if (url !== null && (url.protocol === 'http:' || url.protocol === 'https:')) image.setAttribute('src', url.href);
    else image.remove();
  }
}

function parseUrl(raw: string, base?: string): URL | null {
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}
