import { Readability } from '@mozilla/readability';

import { forEachElement, hasAnyClass } from './dom-walk.ts';

/**
 * Page chrome and embedded code or widgets, never part of a page's content.
 * `header` and `aside` are chrome only outside the content container: inside
 * an `<article>` they hold its title block, and docutils writes footnotes and
 * sidebars as `<aside>`.
 */
const BOILERPLATE_TAGS: ReadonlySet<string> = new Set([
  'script', 'style', 'noscript', 'template', 'iframe', 'object', 'embed', 'canvas', 'svg', 'form', 'button',
  'input', 'select', 'textarea', 'dialog', 'nav', 'footer',
]);
const OUTER_BOILERPLATE_TAGS: ReadonlySet<string> = new Set(['header', 'aside']);
const BOILERPLATE_ROLES: ReadonlySet<string> = new Set(['navigation', 'search', 'banner', 'contentinfo', 'complementary']);

/**
 * Chrome as the common documentation generators mark it: Sphinx
 * (`sphinxsidebar`, `related` bars, `headerlink` permalinks), Read the Docs,
 * MkDocs Material, Docusaurus.
 */
const BOILERPLATE_CLASSES: ReadonlySet<string> = new Set([
  'sphinxsidebar', 'related', 'headerlink', 'footer', 'mobile-nav', 'menu-wrapper', 'breadcrumb', 'breadcrumbs',
  'wy-nav-side', 'rst-versions', 'rst-footer-buttons', 'md-sidebar', 'md-header', 'md-footer',
  'theme-doc-sidebar-container', 'theme-doc-toc-desktop', 'pagination-nav', 'skip-link', 'copybutton',
]);

/** Containers that hold exactly a page's content when a site marks it up, most specific first. */
const MAIN_SELECTORS = [
  '[role=main]',
  'main',
  '[itemprop=articleBody]',
  'article',
  'div.body',
  '.rst-content',
  '.md-content',
  '#content',
  '#main-content',
];

/**
 * A marked-up container must hold at least this share of the page's text to
 * be trusted: sites put `<main>` around a hero banner or a single widget too,
 * and then Readability finds the content better.
 */
const MIN_CONTAINER_SHARE = 0.3;

/** Below this many characters a container or a Readability result is treated as empty. */
const MIN_CONTENT_CHARS = 25;

/**
 * Elements nested deeper than this keep only their text. Readability and
 * turndown recurse once per level and overflow the stack on broken markup
 * (thousands of unclosed `<font>` or `<div>` tags); real pages stay far
 * below (the Python docs reach about 20).
 */
const MAX_DEPTH = 256;

/** Elements whose text is code or data, never content. */
const NON_TEXT_TAGS = ['script', 'style', 'noscript', 'template'];

/** How the main content was found, for metrics and debugging. */
export type ContentSource = 'container' | 'readability' | 'body';

/** The element holding a page's main content, and how it was found. */
export interface MainContent {
  root: Element;
  source: ContentSource;
}

/**
 * Removes page chrome in place, then finds the main content: a marked-up
 * container (`<main>`, `[role=main]`, `<article>`, Sphinx's `div.body`, ...)
 * when one holds most of the text, else Readability's pick, else `<body>`.
 *
 * Containers come first. Readability works on linkedom, but over the 530
 * pages of the Python docs it cost about 150 ms a page (it reads the
 * `textContent` of every candidate's ancestors, again and again) against
 * about 25 ms for parsing plus this whole function, and it was the less
 * faithful: it dropped the `<h1>` on 528 pages and kept under 90% of the
 * text on 59, down to 2% on chapter pages that are mostly a table of
 * contents (it prunes link-dense lists, which on a docs site are content).
 * Readability stays the fallback for pages without such markup (blogs,
 * forums, older sites).
 *
 * The document is modified; read links and metadata before calling this.
 */
export function findMainContent(document: Document): MainContent {
  removeBoilerplate(document);
  const body = document.body;
  const bodyChars = textLength(body);
  const minChars = Math.max(MIN_CONTENT_CHARS, bodyChars * MIN_CONTAINER_SHARE);
  for (const selector of MAIN_SELECTORS) {
    const candidate = document.querySelector(selector);
    if (candidate !== null && textLength(candidate) >= minChars) return { root: candidate, source: 'container' };
  }
  const picked = readabilityContent(document);
  if (picked !== null && textLength(picked) >= MIN_CONTENT_CHARS) return { root: picked, source: 'readability' };
  return { root: body, source: 'body' };
}

function removeBoilerplate(document: Document): void {
  forEachElement(document.documentElement, (element, depth) => {
    if (isBoilerplate(element)) {
      element.remove();
      return false;
    }
    if (depth < MAX_DEPTH) return true;
    for (const tag of NON_TEXT_TAGS) for (const hidden of Array.from(element.getElementsByTagName(tag))) hidden.remove();
    element.textContent = element.textContent;
    return false;
  });
}

function isInsideContentRoot(element: Element): boolean {
  for (let parent = element.parentElement; parent !== null; parent = parent.parentElement) {
    const name = parent.localName;
    if (name === 'main' || name === 'article' || parent.getAttribute('role') === 'main') return true;
    if (parent.getAttribute('itemprop') === 'articleBody') return true;
  }
  return false;
}

function isBoilerplate(element: Element): boolean {
  const name = element.localName;
  if (BOILERPLATE_TAGS.has(name)) return true;
  if (OUTER_BOILERPLATE_TAGS.has(name)) return !isInsideContentRoot(element);
  const role = element.getAttribute('role');
  if (role !== null && BOILERPLATE_ROLES.has(role)) return true;
  if (element.hasAttribute('hidden') || element.getAttribute('aria-hidden') === 'true') return true;
  return hasAnyClass(element, BOILERPLATE_CLASSES);
}

/**
 * Readability's choice of content, or null when it finds none or fails.
 * It runs on a copy: it rewrites the document as it goes, and a failure
 * halfway (it was written for browser DOMs) would leave `<body>`, the last
 * fallback, damaged.
 */
function readabilityContent(document: Document): Element | null {
  try {
    // The serializer hands back the element itself, which spares
    // serializing the article to HTML only to parse it again.
    const article = new Readability<Element>(document.cloneNode(true) as Document, {
      charThreshold: 200,
      keepClasses: true,
      serializer: (node) => node as Element,
    }).parse();
    return article?.content ?? null;
  } catch {
    return null;
  }
}

function textLength(element: Element): number {
  return (element.textContent ?? '').replace(/\s+/g, ' ').trim().length;
}
