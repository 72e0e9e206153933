import { Parser } from 'htmlparser2';

import { JS_REQUIRED_RE, DATA_SCRIPT_TYPE_RE, isMountPoint, SHELL_PAGE_CHARS, type JsSignals } from './js-detection.ts';
import { appendText, element, type LightElement } from './light-tree.ts';

/**
 * Page chrome and embedded code or widgets, never part of a page's content.
 * `header` and `aside` are chrome only outside the content container: inside
 * an `<article>` they hold its title block, and docutils writes footnotes and
 * sidebars as `<aside>`.
 */
const BOILERPLATE_TAGS: ReadonlySet<string> = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'canvas',
  'svg',
  'form',
  'button',
  'input',
  'select',
  'textarea',
  'dialog',
  'nav',
  'footer',
]);
const OUTER_BOILERPLATE_TAGS: ReadonlySet<string> = new Set(['header', 'aside']);
const BOILERPLATE_ROLES: ReadonlySet<string> = new Set(['navigation', 'search', 'banner', 'contentinfo', 'complementary']);

/**
 * Chrome as the common documentation generators mark it: Sphinx
 * (`sphinxsidebar`, `related` bars, `headerlink` permalinks), Read the Docs,
 * MkDocs Material, Docusaurus.
 */
const BOILERPLATE_CLASSES: ReadonlySet<string> = new Set([
  'sphinxsidebar',
  'related',
  'headerlink',
  'footer',
  'mobile-nav',
  'menu-wrapper',
  'breadcrumb',
  'breadcrumbs',
  'wy-nav-side',
  'rst-versions',
  'rst-footer-buttons',
  'md-sidebar',
  'md-header',
  'md-footer',
  'theme-doc-sidebar-container',
  'theme-doc-toc-desktop',
  'pagination-nav',
  'skip-link',
  'copybutton',
]);

/** Elements that belong in `<head>` when a page leaves out its `<head>` tag. */
const HEAD_ONLY_TAGS: ReadonlySet<string> = new Set(['title', 'meta', 'link', 'base']);

/** Elements whose text is code or data, never shown. */
const INVISIBLE_TAGS: ReadonlySet<string> = new Set(['script', 'style', 'noscript', 'template']);

/**
 * Elements nested deeper than this keep only their text. Markdown and text
 * rendering walk the tree, and broken markup (thousands of unclosed
 * `<font>` or `<div>` tags) must not make the tree that deep; real pages
 * stay far below (the Python docs reach about 20).
 */
const MAX_DEPTH = 256;

/**
 * Containers that hold exactly a page's content when a site marks it up,
 * most specific first: each is matched against every content element as it
 * opens, and the first match (in document order) of each is kept.
 */
const MAIN_SELECTORS: readonly ((name: string, attrs: Record<string, string>) => boolean)[] = [
  (_, a) => a.role === 'main',
  (n) => n === 'main',
  (_, a) => a.itemprop === 'articleBody',
  (n) => n === 'article',
  (n, a) => n === 'div' && hasToken(a.class, 'body'),
  (_, a) => hasToken(a.class, 'rst-content'),
  (_, a) => hasToken(a.class, 'md-content'),
  (_, a) => a.id === 'content',
  (_, a) => a.id === 'main-content',
];

/** Everything the extraction reads from a page, gathered in one parse. */
export interface ScannedPage {
  /** The content tree: `<body>` with chrome, scripts and hidden parts left out. */
  body: LightElement;
  /** The first match of each of {@link MAIN_SELECTORS} in the content tree, by index. */
  candidates: (LightElement | undefined)[];
  /** Text of the first `<title>` outside `<svg>`. */
  title?: string;
  ogTitle?: string;
  /** Text of the first `<h1>` of the whole page. */
  firstH1?: string;
  lang?: string;
  baseHref?: string;
  /** Every `<a href>` of the whole page, chrome included, as written, in document order. */
  hrefs: string[];
  js: JsSignals;
}

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined || value.length < token.length) return false;
  return value.split(/[ \t\n\f\r]+/).includes(token);
}

function isBoilerplate(name: string, attrs: Record<string, string>, insideContentRoot: boolean): boolean {
  if (BOILERPLATE_TAGS.has(name)) return true;
  if (OUTER_BOILERPLATE_TAGS.has(name)) return !insideContentRoot;
  const role = attrs.role;
  if (role !== undefined && BOILERPLATE_ROLES.has(role)) return true;
  if (attrs.hidden !== undefined || attrs['aria-hidden'] === 'true') return true;
  const classes = attrs.class;
  if (classes === undefined || classes === '') return false;
  for (const name of classes.split(/[ \t\n\f\r]+/)) if (BOILERPLATE_CLASSES.has(name)) return true;
  return false;
}

function isContentRoot(name: string, attrs: Record<string, string>): boolean {
  return name === 'main' || name === 'article' || attrs.role === 'main' || attrs.itemprop === 'articleBody';
}

/**
 * How much of a `<noscript>` is read: its message is its first sentence or
 * two. The bound is what keeps JS_REQUIRED_RE (bounded gaps, but many
 * alternatives at every position) cheap on a page that hides megabytes there.
 */
const NOSCRIPT_TEXT_MAX = 2000;

/** What an open tag left behind, undone when it closes. */
interface Frame {
  name: string;
  /** The content element it created, or the one its content goes into. */
  into: LightElement;
  created: boolean;
  skips: boolean;
  contentRoot: boolean;
  invisible: boolean;
  svg: boolean;
  head: boolean;
  /** A JavaScript app's mount point: counts the text under it. */
  mount?: { chars: number };
}

/**
 * One pass of htmlparser2 over the page (its tokenizer and the tag rules
 * that imply missing end tags, as linkedom used them): collects the title,
 * language, base URL, every link and the JavaScript signals from the whole
 * page, and builds the content tree without the chrome. Nothing of the
 * chrome is kept, so no later step walks it again.
 */
export function scanHtml(html: string): ScannedPage {
  const body = element('body', {}, null);
  const page: ScannedPage = {
    body,
    candidates: MAIN_SELECTORS.map(() => undefined),
    hrefs: [],
    js: { scripts: 0, sparseBody: true, emptyMountPoint: false, noscriptAsksForJs: false },
  };
  const root: Frame = { name: '#root', into: body, created: false, skips: false, contentRoot: false, invisible: false, svg: false, head: false };
  const stack: Frame[] = [root];
  let skipping = 0;
  let contentRoots = 0;
  let invisible = 0;
  let svg = 0;
  let inHead = 0;
  let depth = 0;
  let seenBodyContent = false;
  let visibleChars = 0;
  let title: string[] | undefined;
  let h1: string[] | undefined;
  let noscript: string[] | undefined;
  const mounts: { chars: number }[] = [];

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const top = stack[stack.length - 1]!;
        const frame: Frame = { name, into: top.into, created: false, skips: false, contentRoot: false, invisible: false, svg: false, head: false };
        if (name === 'html') {
          if (page.lang === undefined && attrs.lang !== undefined && attrs.lang.trim() !== '') page.lang = attrs.lang.trim();
        } else if (name === 'head') {
          frame.head = true;
        } else if (name === 'body') {
          seenBodyContent = true;
        } else {
          if (name === 'a' && attrs.href !== undefined) page.hrefs.push(attrs.href);
          else if (name === 'base' && page.baseHref === undefined && attrs.href !== undefined) page.baseHref = attrs.href;
          else if (name === 'meta' && page.ogTitle === undefined && attrs.property === 'og:title' && attrs.content !== undefined) page.ogTitle = attrs.content;
          else if (name === 'title' && svg === 0 && page.title === undefined && title === undefined) title = [];
          else if (name === 'h1' && page.firstH1 === undefined && h1 === undefined) h1 = [];
          else if (name === 'script' && !DATA_SCRIPT_TYPE_RE.test(attrs.type ?? '')) page.js.scripts++;
          else if (name === 'noscript' && noscript === undefined && !page.js.noscriptAsksForJs) noscript = [];
          if (name === 'svg') frame.svg = true;
          if (INVISIBLE_TAGS.has(name)) frame.invisible = true;
          if (isMountPoint(name, attrs)) mounts.push((frame.mount = { chars: 0 }));
          const head = inHead > 0 || (HEAD_ONLY_TAGS.has(name) && !seenBodyContent);
          if (!head) seenBodyContent = true;
          if (head || skipping > 0) {
            frame.skips = skipping === 0;
          } else if (depth >= MAX_DEPTH) {
            // Too deep: the text goes into the deepest element kept.
          } else if (isBoilerplate(name, attrs, contentRoots > 0)) {
            frame.skips = true;
          } else {
            const created = element(name, attrs, top.into);
            top.into.children.push(created);
            frame.into = created;
            frame.created = true;
            for (let i = 0; i < MAIN_SELECTORS.length; i++)
              if (page.candidates[i] === undefined && MAIN_SELECTORS[i]!(name, attrs)) page.candidates[i] = created;
            frame.contentRoot = isContentRoot(name, attrs);
          }
        }
        if (frame.skips) skipping++;
        if (frame.contentRoot) contentRoots++;
        if (frame.invisible) invisible++;
        if (frame.svg) svg++;
        if (frame.head) inHead++;
        if (frame.created) depth++;
        stack.push(frame);
      },
      ontext(data) {
        if (title !== undefined) title.push(data);
        if (h1 !== undefined) h1.push(data);
        if (noscript !== undefined) noscript.push(data);
        for (const mount of mounts) mount.chars += data.trim().length;
        if (inHead > 0) return;
        if (invisible === 0 && visibleChars < SHELL_PAGE_CHARS) visibleChars += data.replace(/\s+/g, '').length;
        if (data.trim().length > 0) seenBodyContent = true;
        if (skipping > 0 || (invisible > 0 && depth >= MAX_DEPTH)) return;
        appendText(stack[stack.length - 1]!.into, data);
      },
      onclosetag(name) {
        // htmlparser2 closes every tag it opened (implied end tags included), in order.
        const frame = stack.pop();
        if (!frame || stack.length === 0) {
          if (frame) stack.push(frame);
          return;
        }
        if (frame.skips) skipping--;
        if (frame.contentRoot) contentRoots--;
        if (frame.invisible) invisible--;
        if (frame.svg) svg--;
        if (frame.head) inHead--;
        if (frame.created) depth--;
        if (frame.mount) {
          mounts.splice(mounts.indexOf(frame.mount), 1);
          if (frame.mount.chars === 0) page.js.emptyMountPoint = true;
        }
        if (name === 'title' && title !== undefined) {
          page.title = title.join('');
          title = undefined;
        } else if (name === 'h1' && h1 !== undefined) {
          page.firstH1 = h1.join('');
          h1 = undefined;
        } else if (name === 'noscript' && noscript !== undefined) {
          page.js.noscriptAsksForJs ||= JS_REQUIRED_RE.test(noscript.join('').slice(0, NOSCRIPT_TEXT_MAX));
          noscript = undefined;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: false },
  );
  parser.write(html);
  parser.end();
  page.js.sparseBody = visibleChars < SHELL_PAGE_CHARS;
  return page;
}
