/**
 * The small tree the extractor keeps of a page: only the elements that can
 * be content (page chrome, scripts and `<head>` never enter it), each with
 * its lowercase name, its attributes and its children. No W3C DOM: no
 * event targets, no live collections, no selector engine; what the
 * extraction needs is written against these few fields.
 */
export interface LightElement {
  readonly type: 1;
  name: string;
  attrs: Record<string, string>;
  children: LightNode[];
  parent: LightElement | null;
}

export interface LightText {
  readonly type: 3;
  data: string;
  parent: LightElement | null;
}

export type LightNode = LightElement | LightText;

export function element(name: string, attrs: Record<string, string>, parent: LightElement | null): LightElement {
  return { type: 1, name, attrs, children: [], parent };
}

export function isElement(node: LightNode | undefined | null): node is LightElement {
  return node?.type === 1;
}

/**
 * Appends a text node to `parent`. Text the parser hands over in pieces
 * (it splits at character references) stays in pieces, as linkedom kept
 * it: Markdown escaping applies at the start of each text node, so `&gt;`
 * becomes `\>` wherever it stands, as it did before (and the docs' `>>>`
 * prompts in prose read `\>\>\>`, never as a quote).
 */
export function appendText(parent: LightElement, data: string): void {
  parent.children.push({ type: 3, data, parent });
}

/** The concatenated text of every text node under `node`, in order. */
export function textContent(node: LightNode): string {
  if (node.type === 3) return node.data;
  const parts: string[] = [];
  // An explicit stack: broken markup nests thousands of levels deep.
  const stack: LightNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 3) {
      parts.push(current.data);
      continue;
    }
    for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
  }
  return parts.join('');
}

/** Every element under `root` (not `root` itself) whose name is in `names`, in document order. */
export function descendantsNamed(root: LightElement, names: ReadonlySet<string>): LightElement[] {
  const found: LightElement[] = [];
  const stack: LightNode[] = [];
  for (let i = root.children.length - 1; i >= 0; i--) stack.push(root.children[i]!);
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 3) continue;
    if (names.has(current.name)) found.push(current);
    for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
  }
  return found;
}

/** Whether any element under `root` is named in `names`. */
export function hasDescendantNamed(root: LightElement, names: ReadonlySet<string>): boolean {
  const stack: LightNode[] = [...root.children];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 3) continue;
    if (names.has(current.name)) return true;
    for (const child of current.children) stack.push(child);
  }
  return false;
}

/** The nearest of `node` and its ancestors named in `names`, or null. */
export function closest(node: LightElement, names: ReadonlySet<string>): LightElement | null {
  for (let current: LightElement | null = node; current !== null; current = current.parent) if (names.has(current.name)) return current;
  return null;
}

/** The element's classes (the `class` attribute split on whitespace). */
function classesOf(node: LightElement): string[] {
  const value = node.attrs.class;
  return value ? value.split(/\s+/).filter(Boolean) : [];
}

/** Whether the element has the class `name`. */
export function hasClass(node: LightElement, name: string): boolean {
  const value = node.attrs.class;
  return value !== undefined && value.length >= name.length && classesOf(node).includes(name);
}

/** The element children of `node`. */
export function elementChildren(node: LightElement): LightElement[] {
  return node.children.filter(isElement);
}

/** Removes `node` from its parent. */
export function removeNode(node: LightNode): void {
  const parent = node.parent;
  if (!parent) return;
  const index = parent.children.indexOf(node);
  if (index >= 0) parent.children.splice(index, 1);
  node.parent = null;
}

/** Replaces the children of `node` with one text node of `data` (none when empty). */
export function setText(node: LightElement, data: string): void {
  node.children = data.length > 0 ? [{ type: 3, data, parent: node }] : [];
}

/** Elements without content or end tag. */
const VOID_ELEMENTS: ReadonlySet<string> = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** The subtree as HTML (for the Readability fallback, which needs a real DOM). */
export function toHtml(root: LightElement): string {
  const out: string[] = [];
  const stack: (LightNode | string)[] = [root];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (typeof current === 'string') {
      out.push(current);
      continue;
    }
    if (current.type === 3) {
      out.push(current.data.replace(/[&<>]/g, (c) => ESCAPES[c]!));
      continue;
    }
    const attrs = Object.entries(current.attrs)
      .filter(([name]) => /^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/.test(name))
      .map(([name, value]) => ` ${name}="${value.replace(/[&<>"]/g, (c) => ESCAPES[c]!)}"`)
      .join('');
    out.push(`<${current.name}${attrs}>`);
    if (VOID_ELEMENTS.has(current.name)) continue;
    stack.push(`</${current.name}>`);
    for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
  }
  return out.join('');
}
