const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Elements whose content starts on a new line; everything else runs inline. */
const BLOCK_TAGS: ReadonlySet<string> = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'details', 'div', 'dl', 'dt',
  'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main',
  'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
]);

/**
 * The text of `root` with a line break between blocks, spaces collapsed
 * within lines and at most one blank line in a row. `textContent` would run
 * the last word of a heading into the first of the paragraph after it.
 */
export function plainText(root: Element): string {
  const parts: string[] = [];
  // An explicit stack instead of recursion: broken markup (unclosed `<font>`
  // or `<div>` tags) nests thousands of levels deep.
  const stack: Node[] = [root];
  const closing = new Set<Node>();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (closing.has(node)) {
      parts.push('\n');
      continue;
    }
    if (node.nodeType === TEXT_NODE) {
      parts.push((node as Text).data);
      continue;
    }
    if (node.nodeType !== ELEMENT_NODE) continue;
    if (BLOCK_TAGS.has((node as Element).localName)) {
      parts.push('\n');
      closing.add(node);
      stack.push(node);
    }
    const children: Node[] = [];
    for (let child = node.firstChild; child !== null; child = child.nextSibling) children.push(child);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
