import type { ScannedPage } from './html-scan.ts';
import { descendantsNamed, removeNode, type LightElement } from './light-tree.ts';
import { normalizeUrl } from './url.ts';

const ANCHORS: ReadonlySet<string> = new Set(['a']);
const IMAGES: ReadonlySet<string> = new Set(['img']);

/**
 * The URL relative links resolve against: the first `<base href>`, resolved
 * against the page URL, else the page URL. Undefined when neither parses.
 */
export function documentBaseUrl(page: ScannedPage, pageUrl: string): string | undefined {
  const url = parseUrl(pageUrl);
  const baseHref = page.baseHref?.trim();
  if (baseHref) {
    const base = parseUrl(baseHref, url?.href);
    if (base !== null) return base.href;
  }
  return url?.href;
}

/**
 * The page title: `<title>`, else `og:title`, else the first `<h1>`, else the
 * URL path (decoded), with whitespace collapsed. An `<svg>`'s `<title>` is an
 * icon label, not the page's.
 */
export function pageTitle(page: ScannedPage, pageUrl: string): string {
  for (const candidate of [page.title, page.ogTitle, page.firstH1]) {
    const title = (candidate ?? '').replace(/\s+/g, ' ').trim();
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

/**
 * Every `<a href>` of the whole page, navigation included (the crawler
 * follows it), resolved against `baseUrl`, normalized, http(s) only,
 * deduplicated, in document order.
 */
export function collectLinks(page: ScannedPage, baseUrl: string | undefined): string[] {
  const links = new Set<string>();
  for (const href of page.hrefs) {
    const link = normalizeUrl(href, baseUrl);
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
export function absolutizeReferences(root: LightElement, baseUrl: string | undefined): void {
  for (const anchor of descendantsNamed(root, ANCHORS)) {
    delete anchor.attrs.title;
    const href = anchor.attrs.href;
    if (href === undefined) continue;
    const url = parseUrl(href.trim(), baseUrl);
    if (url !== null && (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:')) anchor.attrs.href = url.href;
    else delete anchor.attrs.href;
  }
  for (const image of descendantsNamed(root, IMAGES)) {
    const url = parseUrl((image.attrs.src ?? '').trim(), baseUrl);
    if (url !== null && (url.protocol === 'http:' || url.protocol === 'https:')) image.attrs.src = url.href;
    else removeNode(image);
  }
}

function parseUrl(raw: string, base?: string): URL | null {
  try {
    return new URL(raw, base);
  } catch {
    return null;
  }
}
