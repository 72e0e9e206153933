const FENCE_OPEN_RE = /^\s*(`{3,}|~{3,})/;
const FENCE_LINE_RE = /^\s*(`{3,}|~{3,})\s*$/;

/**
 * The fence a line opens (its run of three or more backticks or tildes), or
 * null. Indentation is allowed: turndown indents code blocks inside list
 * items.
 */
export function fenceOpenedBy(line: string): string | null {
  const match = FENCE_OPEN_RE.exec(line);
  return match?.[1] ?? null;
}

/** Whether `line` closes a block opened by `fence`: the same character, at least as many, nothing after. */
export function closesFence(line: string, fence: string): boolean {
  const match = FENCE_LINE_RE.exec(line);
  return match?.[1] !== undefined && match[1][0] === fence[0] && match[1].length >= fence.length;
}
