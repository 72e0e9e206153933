// Issue and ticket templates (GitHub's "### Steps to reproduce", "React
// version:", "_No response_", TensorFlow's "### Source\n\nbinary") put the same
// lines into every case written from them. To an embedder those lines look
// like shared content, so unrelated cases filed through one template come out
// similar and cluster together. Template lines are found by how many of a
// category's cases contain them (BOILERPLATE_LIMITS) and removed before
// embedding; a case's own text (an error message, its steps) survives unless
// a large share of the category repeats it word for word.
import { trimEndWhere } from '@kbflow/extraction';

const HTML_COMMENT_RE = /<!--[\s\S]*?(?:-->|$)/g;
const LIST_MARKER_RE = /^(?:[-*+]|\d+[.)])\s+(?!\[[ xX]\])/;
// Every pattern below is anchored and reads a prefix; the rest of the line is
// taken with slice and trimmed by hand. Case descriptions are up to 1,000,000
// characters, and the earlier whole-line patterns (`(.*?)\s*#*$`,
// `\s+(.*)$`) backtracked quadratically or worse on a long run of spaces
// before a line separator (kbflow issue 14, item 2).
const HEADING_RE = /^#{1,6}\s/;
const FENCE_RE = /^(?:```|~~~)\s*([\w+-]*)/;
const PLACEHOLDER_RE = /^_([^_]+)_$/;
const CHECKBOX_RE = /^[-*]\s+\[[ xX]\]\s+/;
const LABEL_CHAR_RE = /[\w .()/-]/;
const LABEL_MAX_CHARS = 41;
const HTML_LINE_RE = /^<[a-z/][^>]*>.*>$|^<[a-z/][^>]*>$/i;
// `TypeError: x is undefined` is a symptom, not a label.
const ERROR_NAME_RE = /(?:error|exception|warning|fault|failure|failed)$/i;
const LABEL_VALUE_MAX_WORDS = 6;
const SHORT_LINE_MAX_WORDS = 3;

/**
 * How common a line must be, among a category's cases, to count as
 * boilerplate. Template lines (headings, labels, table rows, checkboxes ...)
 * carry no topic of their own: in `minCount` cases (the pattern size) they
 * are template. Short answers ("Yes", "Every time", "Aborted (core dumped)")
 * need 1% of the cases, as some are symptoms. Any other line must be in 5%
 * of the cases and in at least 50: a recurring error message (27 of the
 * 3,000 GitHub issues say 'Cannot add node "1" because a node with that id
 * is already in the Store.') is what a pattern is made of and must survive,
 * while template prose ("See details at .../How_to_contribute", in 188
 * OpenCV pull requests) must not.
 */
const BOILERPLATE_LIMITS = { shortShare: 0.01, contentShare: 0.05, contentMinCount: 50 } as const;

const isSpace = (c: string) => /\s/.test(c);

/** A Markdown heading's text: after `#`s and a space, without trailing spaces and `#`s. */
function headingOf(line: string): string | undefined {
  const m = HEADING_RE.exec(line);
  return m ? trimEndWhere(line.slice(m[0].length), (c) => c === '#' || isSpace(c)) : undefined;
}

/** `**Label**: value`, `**Label** value`: the label (at least one character) and the value. */
function boldLabelOf(item: string): { label: string; value: string } | undefined {
  if (!item.startsWith('**')) return undefined;
  const close = item.indexOf('**', 3);
  if (close < 0) return undefined;
  let rest = item.slice(close + 2);
  if (rest.startsWith(':')) rest = rest.slice(1);
  return { label: item.slice(2, close), value: rest.trimStart() };
}

/** A table row (`| a | b |`, `a|b`): its first cell, or undefined without a second cell. */
function firstCellOf(item: string): string | undefined {
  const body = item.startsWith('|') ? item.slice(1) : item;
  const bar = body.indexOf('|');
  return bar < 0 ? undefined : body.slice(0, bar);
}

/**
 * `Label: value` or `Label => value`: a letter and up to 40 more label
 * characters, optional whitespace, the separator, then nothing or a space.
 * Scanned by hand: as one pattern the label and the whitespace after it
 * overlap, which backtracks over a long run of spaces.
 */
function labelOf(item: string): { label: string; value: string } | undefined {
  if (!/^[A-Za-z]/.test(item)) return undefined;
  let end = 1;
  while (end < item.length && end < LABEL_MAX_CHARS && LABEL_CHAR_RE.test(item[end]!)) end++;
  let separator = end;
  while (separator < item.length && isSpace(item[separator]!)) separator++;
  let rest: string;
  if (item[separator] === ':') rest = item.slice(separator + 1);
  else if (item.startsWith('=>', separator)) rest = item.slice(separator + 2);
  else return undefined;
  if (rest !== '' && !isSpace(rest[0]!)) return undefined;
  return { label: item.slice(0, end).trimEnd(), value: rest.trimStart() };
}

const words = (s: string) => (s.trim() === '' ? 0 : s.trim().split(/\s+/).length);
const norm = (s: string) => s.toLowerCase().replace(/\d+/g, '0').replace(/\s+/g, ' ').trim();

/**
 * The template signature of a line, or undefined for a line of content.
 * Template lines (signature `t:`) are headings, code fence markers, bold
 * labels, italic placeholders, checkboxes, table rows (keyed by their first
 * cell) and `Label: value` lines with a short value (keyed by the label, as
 * the value is usually a version or platform). Short lines of at most three
 * words ("Yes", "N/A") get `s:`.
 */
export function templateSignature(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let m: RegExpExecArray | null;
  const heading = headingOf(trimmed);
  if (heading !== undefined) return `t:h:${norm(heading)}`;
  if ((m = FENCE_RE.exec(trimmed))) return `t:f:${norm(m[1]!)}`;
  if ((m = CHECKBOX_RE.exec(trimmed))) return `t:c:${norm(trimmed.slice(m[0].length))}`;
  // Tags without `<` inside them: /<[^>]*>/ rescanned from every `<` of a run.
  if (HTML_LINE_RE.test(trimmed)) return `t:x:${norm(trimmed.replace(/<[^<>]*>/g, ' '))}`;
  const item = trimmed.replace(LIST_MARKER_RE, '');
  const bold = boldLabelOf(item);
  if (bold && words(bold.value) <= LABEL_VALUE_MAX_WORDS) return `t:b:${norm(bold.label)}`;
  if ((m = PLACEHOLDER_RE.exec(item))) return `t:p:${norm(m[1]!)}`;
  // Tables and `name|author|version` rows of generated system reports.
  const cell = firstCellOf(item);
  if (cell !== undefined) return `t:r:${norm(cell)}`;
  const label = labelOf(item);
  if (label && !ERROR_NAME_RE.test(label.label) && words(label.value) <= LABEL_VALUE_MAX_WORDS) return `t:l:${norm(label.label)}`;
  if (words(trimmed) <= SHORT_LINE_MAX_WORDS) return `s:${norm(trimmed)}`;
  return undefined;
}

const CONTENT_PREFIX = 'x:';

/** The counting key of a line: its template signature, or its normalized text prefixed `x:`. */
function lineKey(line: string): string | undefined {
  const signature = templateSignature(line);
  if (signature !== undefined) return signature;
  const trimmed = line.trim();
  return trimmed === '' ? undefined : `${CONTENT_PREFIX}${norm(trimmed)}`;
}

/** Removes HTML comments: templates use them for instructions the writer was meant to replace. */
function stripHtmlComments(text: string): string {
  return text.replace(HTML_COMMENT_RE, '');
}

/**
 * Learns a category's template lines from its cases' descriptions and
 * returns a function that strips them (and HTML comments) from a text.
 *
 * @param opts.minCount a line is never boilerplate in fewer cases than this
 *   (the pattern size: a line shared by fewer cases cannot fake a pattern)
 */
export function learnBoilerplate(descriptions: readonly string[], opts: { minCount: number }): (text: string) => string {
  const counts = new Map<string, number>();
  for (const description of descriptions) {
    const seen = new Set<string>();
    for (const line of stripHtmlComments(description).split('\n')) {
      const key = lineKey(line);
      if (key !== undefined) seen.add(key);
    }
    for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const n = descriptions.length;
  const minimum = {
    t: opts.minCount,
    s: Math.max(opts.minCount, Math.ceil(BOILERPLATE_LIMITS.shortShare * n)),
    x: Math.max(opts.minCount, BOILERPLATE_LIMITS.contentMinCount, Math.ceil(BOILERPLATE_LIMITS.contentShare * n)),
  };
  const boilerplate = new Set([...counts].filter(([key, count]) => count >= minimum[key[0] as 't' | 's' | 'x']).map(([key]) => key));
  return (text: string) =>
    stripHtmlComments(text)
      .split('\n')
      .filter((line) => {
        const key = lineKey(line);
        return key === undefined || !boilerplate.has(key);
      })
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
}
