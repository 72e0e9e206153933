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
 * a file download, not the page itself, and kept by `keep` (the crawl's own
 * rules: robots.txt, path patterns), which gets each link parsed once. A
 * recrawl runs this over every stored link of every page, so a link is
 * parsed here and nowhere else.
 */
export function crawlableLinks(links: string[], pageUrl: string, origins: string[], keep?: (url: URL, link: string) => boolean): string[] {
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
    if (keep && !keep(url, link)) continue;
    out.push(link);
  }
  return out;
}
