import { hasDescendantNamed, type LightElement, type LightNode } from './light-tree.ts';

// Turndown's element classes (its utilities.js): which elements are blocks,
// void, or meaningful when blank, and so which count as blank.

const BLOCK: ReadonlySet<string> = new Set([
  'address',
  'article',
  'aside',
  'audio',
  'blockquote',
  'body',
  'canvas',
  'center',
  'dd',
  'dir',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'frameset',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hgroup',
  'hr',
  'html',
  'isindex',
  'li',
  'main',
  'menu',
  'nav',
  'noframes',
  'noscript',
  'ol',
  'output',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);
export const VOID: ReadonlySet<string> = new Set([
  'area',
  'base',
  'br',
  'col',
  'command',
  'embed',
  'hr',
  'img',
  'input',
  'keygen',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
const MEANINGFUL_WHEN_BLANK: ReadonlySet<string> = new Set(['a', 'table', 'thead', 'tbody', 'tfoot', 'th', 'td', 'iframe', 'script', 'audio', 'video']);
const VOID_OR_MEANINGFUL: ReadonlySet<string> = new Set([...VOID, ...MEANINGFUL_WHEN_BLANK]);

export function isBlock(node: LightElement): boolean {
  return BLOCK.has(node.name);
}

/** Whether turndown drops `node` as blank: no visible text and nothing void or meaningful under it. */
export function isBlank(node: LightElement): boolean {
  if (VOID.has(node.name) || MEANINGFUL_WHEN_BLANK.has(node.name)) return false;
  if (hasVisibleText(node)) return false;
  return !hasDescendantNamed(node, VOID_OR_MEANINGFUL);
}

/** Whether any text under `node` has a non-whitespace character; stops at the first. */
function hasVisibleText(node: LightElement): boolean {
  const stack: LightNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 3) {
      if (/\S/.test(current.data)) return true;
    } else {
      for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
    }
  }
  return false;
}
