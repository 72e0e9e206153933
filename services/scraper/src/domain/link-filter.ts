/**
 * Extensions that are never pages or documents kbflow reads; links to them
 * are not crawled. PDF, DOCX and Markdown links are: the http fetcher hands
 * their bytes to packages/extraction. `.txt` stays out: documentation sites
 * link their pages' sources that way (Sphinx's `_sources/*.rst.txt`), which
 * would index every page twice.
 */
const NON_PAGE_EXTENSIONS =
  /\.(?:png|jpe?g|gif|svg|webp|ico|bmp|css|js|mjs|map|json|xml|zip|gz|tgz|bz2|xz|7z|tar|rar|exe|dmg|msi|deb|rpm|whl|egg|mp3|mp4|webm|avi|mov|woff2?|ttf|eot|otf|epub|txt|rst|inv|bin|iso)$/i;

/**
 * The links a crawl follows from a page: same allowed origins, not obviously
 * a file download, and not the page itself.
 */
export function crawlableLinks(links: string[], pageUrl: string, origins: string[]): string[] {
  const allowed = new Set(origins);
  const out: string[] = [];
  for (const link of links) {
    if (link === pageUrl) continue;
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      continue;
    }
    if (!allowed.has(url.origin)) continue;
    if (NON_PAGE_EXTENSIONS.test(url.pathname)) continue;
    out.push(link);
  }
  return out;
}
