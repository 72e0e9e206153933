import { isBlock, VOID } from './markdown-elements.ts';
import { textContent, type LightElement, type LightNode, type LightText } from './light-tree.ts';

/**
 * Turndown's whitespace collapsing: runs of ASCII whitespace become one
 * space, spaces at the edges of blocks and after a space go, `<pre>` is
 * left alone. An element is visited on entry and, when it has children,
 * again on exit, as turndown's walk does.
 */
export function collapseWhitespace(root: LightElement): void {
  if (root.children.length === 0 || root.name === 'pre') return;
  let prevText: LightText | null = null;
  let keepLeadingWs = false;
  const visitElement = (node: LightElement) => {
    if (isBlock(node) || node.name === 'br') {
      if (prevText) prevText.data = prevText.data.replace(/ $/, '');
      prevText = null;
      keepLeadingWs = false;
    } else if (VOID.has(node.name) || node.name === 'pre') {
      prevText = null;
      keepLeadingWs = true;
    } else if (prevText) {
      keepLeadingWs = false;
    }
  };
  // [node, exiting]: an explicit stack, as the tree can be 256 levels deep.
  const stack: [LightNode, boolean][] = [];
  for (let i = root.children.length - 1; i >= 0; i--) stack.push([root.children[i]!, false]);
  const removed = new Set<LightText>();
  while (stack.length > 0) {
    const [node, exiting] = stack.pop()!;
    if (node.type === 3) {
      let text = node.data.replace(/[ \r\n\t]+/g, ' ');
      if ((!prevText || prevText.data.endsWith(' ')) && !keepLeadingWs && text.startsWith(' ')) text = text.slice(1);
      if (!text) {
        removed.add(node);
        continue;
      }
      node.data = text;
      prevText = node;
      continue;
    }
    visitElement(node);
    if (exiting || node.name === 'pre' || node.children.length === 0) continue;
    stack.push([node, true]);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push([node.children[i]!, false]);
  }
  if (prevText) {
    const last: LightText = prevText;
    last.data = last.data.replace(/ $/, '');
    if (!last.data) removed.add(last);
  }
  if (removed.size > 0) dropTexts(root, removed);
}

function dropTexts(root: LightElement, removed: Set<LightText>): void {
  const stack: LightElement[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.children.some((c) => c.type === 3 && removed.has(c))) node.children = node.children.filter((c) => !(c.type === 3 && removed.has(c)));
    for (const child of node.children) if (child.type === 1) stack.push(child);
  }
}

/** Turndown's flanking whitespace: an inline element's edge spaces move outside its delimiters. */
export function flankingWhitespace(siblings: LightNode[], index: number): { leading: string; trailing: string } {
  const node = siblings[index] as LightElement;
  if (isBlock(node)) return { leading: '', trailing: '' };
  const edges = edgeWhitespace(textContent(node));
  let { leading, trailing } = edges;
  if (edges.leadingAscii && isFlanked(siblings[index - 1], / $/)) leading = edges.leadingNonAscii;
  if (edges.trailingAscii && isFlanked(siblings[index + 1], /^ /)) trailing = edges.trailingNonAscii;
  return { leading, trailing };
}

function isFlanked(sibling: LightNode | undefined, pattern: RegExp): boolean {
  if (sibling === undefined) return false;
  if (sibling.type === 3) return pattern.test(sibling.data);
  return !isBlock(sibling) && pattern.test(textContent(sibling));
}

const ASCII_SPACE: ReadonlySet<string> = new Set([' ', '\t', '\r', '\n']);
const isSpace = (c: string) => /\s/.test(c);

/**
 * Turndown's edge whitespace of an element's text (its regular expression
 * `^(([ \t\r\n]*)(\s*))(?:(?=\S)[\s\S]*\S)?((\s*?)([ \t\r\n]*))$`,
 * which backtracks quadratically on long whitespace runs), by scanning the
 * edges: the leading whitespace and its ASCII start, the trailing whitespace
 * and its ASCII end. Text that is all whitespace is all leading.
 */
function edgeWhitespace(text: string): {
  leading: string;
  leadingAscii: string;
  leadingNonAscii: string;
  trailing: string;
  trailingNonAscii: string;
  trailingAscii: string;
} {
  let ascii = 0;
  while (ascii < text.length && ASCII_SPACE.has(text[ascii]!)) ascii++;
  let lead = ascii;
  while (lead < text.length && isSpace(text[lead]!)) lead++;
  const leading = text.slice(0, lead);
  if (lead === text.length)
    return { leading, leadingAscii: text.slice(0, ascii), leadingNonAscii: text.slice(ascii), trailing: '', trailingNonAscii: '', trailingAscii: '' };
  let asciiEnd = text.length;
  while (asciiEnd > lead && ASCII_SPACE.has(text[asciiEnd - 1]!)) asciiEnd--;
  let trail = asciiEnd;
  while (trail > lead && isSpace(text[trail - 1]!)) trail--;
  return {
    leading,
    leadingAscii: text.slice(0, ascii),
    leadingNonAscii: text.slice(ascii, lead),
    trailing: text.slice(trail),
    trailingNonAscii: text.slice(trail, asciiEnd),
    trailingAscii: text.slice(asciiEnd),
  };
}
