import { looksJsRendered, readJsSignals } from './js-detection.ts';
import { findMainContent } from './main-content.ts';
import { toMarkdown } from './markdown.ts';
import { absolutizeReferences, collectLinks, documentBaseUrl, pageLanguage, pageTitle } from './page-metadata.ts';
import { parseDocument } from './parse-document.ts';
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
 */
export function extractPage(html: string, url: string): ExtractedPage {
  const document = parseDocument(html);
  const baseUrl = documentBaseUrl(document, url);
  // Everything read from the whole page comes before findMainContent, which
  // strips the page down in place.
  const title = pageTitle(document, url);
  const language = pageLanguage(document);
  const links = collectLinks(document, baseUrl);
  const jsSignals = readJsSignals(document);
  const { root } = findMainContent(document);
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
