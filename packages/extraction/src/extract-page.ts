import { scanHtml } from './html-scan.ts';
import { looksJsRendered } from './js-detection.ts';
import { findMainContent } from './main-content.ts';
import { toMarkdown } from './markdown.ts';
import { absolutizeReferences, collectLinks, documentBaseUrl, pageTitle } from './page-metadata.ts';
import { plainText } from './plain-text.ts';

/** What the pipeline keeps of a crawled HTML page. */
export interface ExtractedPage {
  /** `<title>` (else `og:title`, else the first `<h1>`), whitespace collapsed; falls back to the URL path. */
  title: string;
  /** The main content as Markdown, page chrome (navigation, sidebars, footers, search forms) removed; links absolute. */
  markdown: string;
  /** Plain text of the main content, one line per block, for full-text search and emptiness checks. */
  text: string;
  /** Every `<a href>` of the whole page, resolved (honouring `<base href>`), normalized with `normalizeUrl`, deduplicated, in document order. */
  links: string[];
  /** The page looks rendered by JavaScript: little text but scripts, an empty app mount point, or a `<noscript>` asking for JavaScript. */
  needsJavaScript: boolean;
  /** `<html lang>`, when present. */
  language?: string;
}

/**
 * Extracts the title, main content (as Markdown and as text), outgoing
 * links and a needs-JavaScript verdict from one HTML page fetched from `url`.
 * Never throws on malformed HTML; a page without content gives empty
 * `markdown` and `text`.
 *
 * One parse (htmlparser2, `scanHtml`) reads everything from the whole page
 * and keeps a small tree of what can be content, chrome left out as it
 * goes; the main content is picked from that tree and rendered from it. No
 * DOM is built except for the rare page that marks no content container
 * (Readability needs one). Over the two docs corpora this replaced a
 * linkedom DOM, a pass to strip it, selector look-ups and turndown (kbflow
 * issue 13: see the commit for the ratio).
 */
export function extractPage(html: string, url: string): ExtractedPage {
  const scanned = scanHtml(html);
  const baseUrl = documentBaseUrl(scanned, url);
  const title = pageTitle(scanned, url);
  const language = scanned.lang;
  const links = collectLinks(scanned, baseUrl);
  const jsSignals = scanned.js;
  const { root } = findMainContent(scanned);
  absolutizeReferences(root, baseUrl);
  const text = plainText(root);
  const markdown = toMarkdown(root);
  const page: ExtractedPage = {
    title,
    markdown,
    text,
    links,
    needsJavaScript: looksJsRendered(jsSignals, text.length),
  };
  if (language !== undefined) page.language = language;
  return page;
}
