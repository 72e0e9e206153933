import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

import type { ScannedPage } from './html-scan.ts';
import { appendText, element, textContent, toHtml, type LightElement } from './light-tree.ts';

/**
 * A marked-up container must hold at least this share of the page's text to
 * be trusted: sites put `<main>` around a hero banner or a single widget too,
 * and then Readability finds the content better.
 */
const MIN_CONTAINER_SHARE = 0.3;

/** Below this many characters a container or a Readability result is treated as empty. */
const MIN_CONTENT_CHARS = 25;

/** How the main content was found, for metrics and debugging. */
type ContentSource = 'container' | 'readability' | 'body';

/** The element holding a page's main content, and how it was found. */
export interface MainContent {
  root: LightElement;
  source: ContentSource;
}

/**
 * The main content of a scanned page (chrome already left out by
 * `scanHtml`): a marked-up container (`<main>`, `[role=main]`,
 * `<article>`, Sphinx's `div.body`, ...) when one holds most of the text,
 * else Readability's pick, else `<body>`.
 *
 * Containers come first. Over the 530 pages of the Python docs Readability
 * cost about 150 ms a page (it reads the `textContent` of every
 * candidate's ancestors, again and again) and was the less faithful: it
 * dropped the `<h1>` on 528 pages and kept under 90% of the text on 59,
 * down to 2% on chapter pages that are mostly a table of contents (it
 * prunes link-dense lists, which on a docs site are content). Readability
 * stays the fallback for pages without such markup (blogs, forums, older
 * sites); only those pay for a DOM.
 */
export function findMainContent(page: ScannedPage): MainContent {
  const bodyChars = textLength(page.body);
  const minChars = Math.max(MIN_CONTENT_CHARS, bodyChars * MIN_CONTAINER_SHARE);
  for (const candidate of page.candidates) {
    if (candidate !== undefined && textLength(candidate) >= minChars) return { root: candidate, source: 'container' };
  }
  const picked = readabilityContent(page.body, page.title);
  if (picked !== null && textLength(picked) >= MIN_CONTENT_CHARS) return { root: picked, source: 'readability' };
  return { root: page.body, source: 'body' };
}

/**
 * Readability's choice of content, or null when it finds none or fails.
 * Readability needs a browser-like DOM, so the content tree goes through
 * linkedom here, and only here; its pick comes back as a content tree.
 */
function readabilityContent(body: LightElement, title: string | undefined): LightElement | null {
  try {
    // The title goes too: Readability drops a heading that repeats it.
    const head = title === undefined ? '' : `<title>${title.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</title>`;
    const { document } = parseHTML(`<!DOCTYPE html><html><head>${head}</head>${toHtml(body)}</html>`);
    // The serializer hands back the element itself, which spares
    // serializing the article to HTML only to parse it again.
    const article = new Readability<Element>(document, {
      charThreshold: 200,
      keepClasses: true,
      serializer: (node) => node as Element,
    }).parse();
    return article?.content ? fromDom(article.content) : null;
  } catch {
    return null;
  }
}

/** A linkedom element as a content tree (iteratively: Readability keeps nesting as it found it). */
function fromDom(root: Element): LightElement {
  const out = element(root.localName, {}, null);
  const stack: [Node, LightElement][] = [];
  for (let child = root.lastChild; child !== null; child = child.previousSibling) stack.push([child, out]);
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!;
    if (node.nodeType === 3) {
      appendText(parent, (node as Text).data);
    } else if (node.nodeType === 1) {
      const source = node as Element;
      const attrs: Record<string, string> = {};
      for (const attr of Array.from(source.attributes)) attrs[attr.name] = attr.value;
      const created = element(source.localName, attrs, parent);
      parent.children.push(created);
      for (let child = source.lastChild; child !== null; child = child.previousSibling) stack.push([child, created]);
    }
  }
  return out;
}

function textLength(node: LightElement): number {
  return textContent(node).replace(/\s+/g, ' ').trim().length;
}
