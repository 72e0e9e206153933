import { parseHTML } from 'linkedom';

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Elements that belong in `<head>` when a page leaves out its `<head>` tag. */
const HEAD_ONLY_TAGS: ReadonlySet<string> = new Set(['title', 'meta', 'link', 'base']);

/**
 * Parses `html` with linkedom into a document that always has
 * `<html><head>…</head><body>…</body></html>`.
 *
 * linkedom's parser (htmlparser2) builds the tree exactly as written and does
 * not imply the missing `<html>`, `<head>` and `<body>` tags the way a browser
 * does: a fragment parses into a document whose `documentElement` is the first
 * element and whose `body` is a new empty element (or throws when there is no
 * element at all). Such pages are rebuilt once into the full skeleton; well-formed
 * pages, nearly every crawled page, are parsed only once.
 */
export function parseDocument(html: string): Document {
  const { document } = parseHTML(html);
  return hasSkeleton(document) ? document : rebuildSkeleton(document);
}

function hasSkeleton(document: Document): boolean {
  // Typed non-null by the DOM library, but linkedom leaves it null for input without elements.
  const root = document.documentElement as Element | null;
  if (root === null || root.localName !== 'html') return false;
  for (const node of Array.from(document.childNodes)) {
    if (node.nodeType === ELEMENT_NODE && node !== root) return false;
  }
  const names = Array.from(root.children, (child) => child.localName);
  return names.length > 0 && names.join(',') === (names.length === 1 ? 'body' : 'head,body');
}

function rebuildSkeleton(document: Document): Document {
  const head: string[] = [];
  const body: string[] = [];
  let lang = '';
  const visit = (parent: ParentNode, inHead: boolean): void => {
    for (const node of Array.from(parent.childNodes)) {
      if (node.nodeType === ELEMENT_NODE) {
        const element = node as Element;
        const name = element.localName;
        if (name === 'html') {
          lang ||= element.getAttribute('lang') ?? '';
          visit(element, false);
        } else if (name === 'head' || name === 'body') {
          visit(element, name === 'head');
        } else if (inHead || (HEAD_ONLY_TAGS.has(name) && body.length === 0)) {
          head.push(element.outerHTML);
        } else {
          body.push(element.outerHTML);
        }
      } else if (node.nodeType === TEXT_NODE && !inHead) {
        // linkedom serializes text nodes escaped, so this cannot inject markup.
        body.push(String(node));
      }
    }
  };
  visit(document, false);
  const langAttribute = lang ? ` lang="${lang.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`)}"` : '';
  const skeleton = `<!DOCTYPE html><html${langAttribute}><head>${head.join('')}</head><body>${body.join('')}</body></html>`;
  return parseHTML(skeleton).document;
}
