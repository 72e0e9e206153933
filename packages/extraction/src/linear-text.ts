// Small scanners for what regular expressions did here before with
// super-linear backtracking (kbflow issue 14, item 2: `#`, 2,000 spaces and a
// U+2028 kept the API busy for seconds, 10,000 spaces for minutes). Each is
// one left-to-right pass, so its time is linear in its input whatever the
// input is. test/static/regex-audit.test.ts keeps the patterns that remain
// linear too.

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/** A CommonMark ATX heading: its level (1-6) and its text, without the optional closing `#` run. */
export interface AtxHeading {
  level: number;
  text: string;
}

/**
 * Reads `line` as an ATX heading: up to three spaces, one to six `#`, then a
 * space, a tab or the end of the line; the text is trimmed of spaces and
 * tabs and of a closing run of `#` that a space or tab precedes. Undefined
 * for any other line (`#5`, seven `#`, four spaces of indentation).
 */
export function parseAtxHeading(line: string): AtxHeading | undefined {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  let level = 0;
  while (level < 7 && line[i + level] === '#') level++;
  if (level === 0 || level > 6) return undefined;
  const start = i + level;
  if (start < line.length && !isBlank(line[start])) return undefined;
  let end = trimBlankEnd(line, start, line.length);
  let closing = end;
  while (closing > start && line[closing - 1] === '#') closing--;
  if (closing < end && (closing === start || isBlank(line[closing - 1]))) end = trimBlankEnd(line, start, closing);
  let from = start;
  while (from < end && isBlank(line[from])) from++;
  return { level, text: line.slice(from, end) };
}

function trimBlankEnd(line: string, start: number, end: number): number {
  while (end > start && isBlank(line[end - 1])) end--;
  return end;
}

/** `text` without the trailing characters `drop` accepts (`trimEnd` for a chosen class). */
export function trimEndWhere(text: string, drop: (c: string) => boolean): string {
  let end = text.length;
  while (end > 0 && drop(text[end - 1]!)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** `text` without the characters of `chars` at its end (`trimEnd` for a chosen set). */
export function trimEndOf(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1]!)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** `text` without the characters of `chars` at its start. */
export function trimStartOf(text: string, chars: string): string {
  let start = 0;
  while (start < text.length && chars.includes(text[start]!)) start++;
  return start === 0 ? text : text.slice(start);
}

/**
 * Whether `line` is a Markdown table's delimiter row (`| --- | :-: |`):
 * cells of at least three dashes with optional colons, between optional
 * outer pipes.
 */
export function isTableDelimiterRow(line: string): boolean {
  let row = line.trim();
  if (row.startsWith('|')) row = row.slice(1);
  if (row.endsWith('|')) row = row.slice(0, -1);
  const cells = row.split('|');
  return cells.every((cell) => DELIMITER_CELL_RE.test(cell.trim()));
}

// Anchored at both ends and without nested repetition: linear.
const DELIMITER_CELL_RE = /^:?-{3,}:?$/;
