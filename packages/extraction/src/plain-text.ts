import type { LightElement, LightNode } from './light-tree.ts';

/** Elements whose content starts on a new line; everything else runs inline. */
const BLOCK_TAGS: ReadonlySet<string> = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'br',
  'caption',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);

/**
 * The text of `root` with a line break between blocks, spaces collapsed
 * within lines and at most one blank line in a row. Concatenating the text
 * would run the last word of a heading into the first of the paragraph
 * after it.
 */
export function plainText(root: LightElement): string {
  const parts: string[] = [];
  // An explicit stack instead of recursion; `null` marks the end of a block.
  const stack: (LightNode | null)[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node === null) {
      parts.push('\n');
      continue;
    }
    if (node.type === 3) {
      parts.push(node.data);
      continue;
    }
    if (BLOCK_TAGS.has(node.name)) {
      parts.push('\n');
      stack.push(null);
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
