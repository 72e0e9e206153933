import { forEachElement } from './dom-walk.ts';

/** Ids of the elements single-page-app frameworks render into; empty until the bundle runs. */
const MOUNT_POINT_IDS: ReadonlySet<string> = new Set(['root', 'app', '__next', '__nuxt', '___gatsby', 'svelte', 'react-root']);

const JS_REQUIRED_RE =
  /\b(?:enable|activate|turn on|allow)\b[^.]{0,40}\bjavascript\b|\bjavascript\b[^.]{0,40}\b(?:required|disabled|needed|turned off)\b|\brequires?\b[^.]{0,20}\bjavascript\b/i;

/**
 * How much of a `<noscript>` is read: its message is its first sentence or
 * two. The bound is what keeps JS_REQUIRED_RE (bounded gaps, but many
 * alternatives at every position) cheap on a page that hides megabytes there.
 */
const NOSCRIPT_TEXT_MAX = 2000;

/** Script types that carry data, not code (structured data, import maps, templates). */
const DATA_SCRIPT_TYPE_RE = /json|importmap|template|text\/(?!javascript)/i;

/**
 * Below this much visible text in the whole `<body>` (navigation and footer
 * included), a page with any script is taken to render client-side: a shell
 * with a spinner or a "Loading..." line is all a crawler sees of such a
 * page. The whole body counts, not the main content, because short static
 * pages with scripts (a docs stub page, an index of letters) keep plenty of
 * chrome around a few words of content.
 */
const SHELL_PAGE_CHARS = 200;

/**
 * An empty mount point or a `<noscript>` asking for JavaScript is strong
 * evidence, so main content up to this long still counts as a shell (a
 * server-rendered intro around client-rendered content); past it the page
 * has its content and the JavaScript is an extra (comments, search).
 */
const SHELL_CONTENT_CHARS = 1000;

/** Elements whose text is not shown. */
const INVISIBLE_TEXT_TAGS: ReadonlySet<string> = new Set(['script', 'style', 'noscript', 'template']);

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** What the raw page says about needing JavaScript, read before boilerplate is removed. */
export interface JsSignals {
  scripts: number;
  /** The whole `<body>` shows fewer than 200 non-whitespace characters. */
  sparseBody: boolean;
  emptyMountPoint: boolean;
  noscriptAsksForJs: boolean;
}

/** Reads the JavaScript signals of a page; call it before the document is modified. */
export function readJsSignals(document: Document): JsSignals {
  const signals: JsSignals = { scripts: 0, sparseBody: !hasVisibleText(document.body, SHELL_PAGE_CHARS), emptyMountPoint: false, noscriptAsksForJs: false };
  forEachElement(document.documentElement, (element) => {
    const name = element.localName;
    if (name === 'script') {
      if (!DATA_SCRIPT_TYPE_RE.test(element.getAttribute('type') ?? '')) signals.scripts++;
      return false;
    }
    if (name === 'noscript') {
      signals.noscriptAsksForJs ||= JS_REQUIRED_RE.test((element.textContent ?? '').slice(0, NOSCRIPT_TEXT_MAX));
      return false;
    }
    if (isMountPoint(element) && (element.textContent ?? '').trim().length === 0) signals.emptyMountPoint = true;
    return true;
  });
  return signals;
}

/**
 * Whether the page looks rendered by JavaScript, given its signals and the
 * length of the main-content text extracted without running scripts.
 */
export function looksJsRendered(signals: JsSignals, contentChars: number): boolean {
  if ((signals.emptyMountPoint || signals.noscriptAsksForJs) && contentChars < SHELL_CONTENT_CHARS) return true;
  return signals.scripts > 0 && signals.sparseBody;
}

/**
 * Whether `root` shows at least `minChars` non-whitespace characters. Stops
 * as soon as it has seen them, which on a page with content is within the
 * first few elements, instead of reading all of its text.
 */
function hasVisibleText(root: Element, minChars: number): boolean {
  let seen = 0;
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.nodeType === TEXT_NODE) {
      seen += (node as Text).data.replace(/\s+/g, '').length;
      if (seen >= minChars) return true;
    } else if (node.nodeType === ELEMENT_NODE && !INVISIBLE_TEXT_TAGS.has((node as Element).localName)) {
      const children: Node[] = [];
      for (let child = node.firstChild; child !== null; child = child.nextSibling) children.push(child);
      // Reversed so the first child is popped first: text is counted in reading order.
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return false;
}

function isMountPoint(element: Element): boolean {
  const id = element.getAttribute('id');
  return (
    (id !== null && MOUNT_POINT_IDS.has(id)) || element.localName === 'app-root' || element.hasAttribute('data-reactroot')
  );
}
