const ELEMENT_NODE = 1;

/**
 * Visits the elements under `root` (not `root` itself) in document order,
 * with their depth below `root` (1 for its children). `visit` returns false
 * to skip an element's descendants, and may remove or rewrite the element
 * it is given. A hand-rolled walk because linkedom matches selectors
 * slowly: one pass with plain attribute checks replaces a
 * `querySelectorAll` per selector list.
 */
export function forEachElement(root: Node, visit: (element: Element, depth: number) => boolean): void {
  // An explicit stack instead of recursion: broken markup (unclosed `<font>`
  // or `<div>` tags) nests thousands of levels deep.
  const stack: { element: Element; depth: number }[] = [];
  pushChildren(stack, root, 1);
  while (stack.length > 0) {
    const { element, depth } = stack.pop()!;
    if (visit(element, depth)) pushChildren(stack, element, depth + 1);
  }
}

function pushChildren(stack: { element: Element; depth: number }[], parent: Node, depth: number): void {
  const start = stack.length;
  for (let child = parent.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) stack.push({ element: child as Element, depth });
  }
  // Reversed so the first child is popped first.
  for (let i = start, j = stack.length - 1; i < j; i++, j--) {
    const swap = stack[i]!;
    stack[i] = stack[j]!;
    stack[j] = swap;
  }
}

/** Whether the element has any of `classes`. */
export function hasAnyClass(element: Element, classes: ReadonlySet<string>): boolean {
  // linkedom builds `class` from its token set on every read and allocates a
  // token list on first access: ask the attribute first, then the set.
  if (!element.hasAttribute('class')) return false;
  const { classList } = element;
  for (const name of classes) if (classList.contains(name)) return true;
  return false;
}
