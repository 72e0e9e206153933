import { closesFence, fenceOpenedBy } from './fences.ts';
import { descendantsNamed, hasClass, isElement, setText, textContent, type LightElement, type LightNode } from './light-tree.ts';
import { isBlank, isBlock } from './markdown-elements.ts';
import { blankTablePart, tableReplacement } from './markdown-tables.ts';
import { collapseWhitespace, flankingWhitespace } from './markdown-whitespace.ts';

// Written by hand, not with turndown: turndown converts a W3C DOM, and the
// extraction no longer builds one (kbflow issue 13). This follows turndown
// 7.2's algorithm and rules (MIT, github.com/mixmark-io/turndown: whitespace
// collapsing, escaping, joining, the CommonMark rules with our options), so
// the Markdown is what it made, on the content tree instead. Its element
// classes are in markdown-elements.ts, its whitespace handling in
// markdown-whitespace.ts, GFM tables in markdown-tables.ts.

const LANGUAGE_CLASS_RE = /(?:^|\s)(?:language|lang|highlight)-([\w+#.-]+)/;

/** Sphinx names languages after its lexers; these have a common Markdown name or none. */
const LANGUAGE_ALIASES: Readonly<Record<string, string>> = {
  default: '',
  none: '',
  text: '',
  python3: 'python',
  py3: 'python',
};

const PRE: ReadonlySet<string> = new Set(['pre']);
const CODE: ReadonlySet<string> = new Set(['code']);
const DT: ReadonlySet<string> = new Set(['dt']);

const ESCAPES: [RegExp, string][] = [
  [/\\/g, '\\\\'],
  [/\*/g, '\\*'],
  [/^-/g, '\\-'],
  [/^\+ /g, '\\+ '],
  [/^(=+)/g, '\\$1'],
  [/^(#{1,6}) /g, '\\$1 '],
  [/`/g, '\\`'],
  [/^~~~/g, '\\~~~'],
  [/\[/g, '\\['],
  [/\]/g, '\\]'],
  [/^>/g, '\\>'],
  [/_/g, '\\_'],
  [/^(\d+)\. /g, '$1\\. '],
];
/** Any character or line start an escape above can apply to: most text has none, and skips the 13 replaces. */
const MAYBE_ESCAPED = /[\\*`[\]_]|^[-+=#~>\d]/;

/** Turndown's Markdown escaping of a text node. */
function escapeMarkdown(text: string): string {
  if (!MAYBE_ESCAPED.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of ESCAPES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Converts a content element to Markdown: ATX headings, fenced code blocks
 * (with the language when the markup names one), `-` bullets, `*` emphasis
 * (so `_` inside identifiers never reads as emphasis), GFM tables for simple
 * data tables. Modifies `root` (whitespace is collapsed in place).
 */
export function toMarkdown(root: LightElement): string {
  flattenCode(root);
  collapseWhitespace(root);
  const output: string[] = [];
  for (let i = 0; i < root.children.length; i++) join(output, replacementFor(root.children, i, false));
  // trimEnd, not turndown's /[\t\r\n\s]+$/: that one is quadratic on a long run of spaces.
  return tidy(
    output
      .join('')
      .replace(/^[\t\r\n]+/, '')
      .trimEnd(),
  );
}

/**
 * Replaces the content of code blocks, inline code and API signatures with
 * its text. Their rules read only the text, but every highlighting `<span>`
 * inside them (Pygments wraps each token) would be converted first, half of
 * the nodes on a code-heavy page. A block's language, named by classes on
 * elements about to go, is kept.
 */
function flattenCode(root: LightElement): void {
  for (const pre of descendantsNamed(root, PRE)) {
    if (!isAttached(pre, root)) continue;
    const language = codeLanguage(pre);
    setText(pre, textContent(pre));
    languages.set(pre, language);
  }
  for (const code of descendantsNamed(root, CODE)) if (isAttached(code, root)) setText(code, textContent(code));
  for (const term of descendantsNamed(root, DT)) if (hasClass(term, 'sig')) setText(term, textContent(term));
}

/** Languages of the code blocks being converted (read before their markup is flattened). */
const languages = new WeakMap<LightElement, string>();

/** Whether `node` is still under `root` (an earlier flattening may have dropped it). */
function isAttached(node: LightElement, root: LightElement): boolean {
  for (let current: LightElement | null = node; current !== null; current = current.parent) {
    if (current === root) return true;
    const parent: LightElement | null = current.parent;
    if (parent !== null && !parent.children.includes(current)) return false;
  }
  return false;
}

function codeLanguage(pre: LightElement): string {
  const firstChild = pre.children.find(isElement) ?? null;
  const candidates = [pre, firstChild, pre.parent, pre.parent?.parent ?? null];
  for (const candidate of candidates) {
    const match = LANGUAGE_CLASS_RE.exec(candidate?.attrs.class ?? '');
    if (match?.[1] !== undefined) {
      const name = match[1].toLowerCase();
      return LANGUAGE_ALIASES[name] ?? name;
    }
  }
  return '';
}

/** Turndown's join: the separator between two pieces is the larger of their newline runs, at most two. */
function join(output: string[], replacement: string): void {
  const tail = output.pop() ?? '';
  let end = tail.length;
  while (end > 0 && tail[end - 1] === '\n') end--;
  const s1 = tail.slice(0, end);
  let start = 0;
  while (start < replacement.length && replacement[start] === '\n') start++;
  const s2 = replacement.slice(start);
  const separator = '\n\n'.slice(0, Math.max(tail.length - end, start));
  if (s1) output.push(s1);
  if (separator) output.push(separator);
  if (s2) output.push(s2);
}

/** The Markdown of the `index`-th of `siblings`. */
function replacementFor(siblings: LightNode[], index: number, inCode: boolean): string {
  const node = siblings[index]!;
  if (node.type === 3) return inCode ? node.data : escapeMarkdown(node.data);
  const isCode = inCode || node.name === 'code';
  const output: string[] = [];
  for (let i = 0; i < node.children.length; i++) join(output, replacementFor(node.children, i, isCode));
  let content = output.join('');
  const whitespace = flankingWhitespace(siblings, index);
  if (whitespace.leading || whitespace.trailing) content = content.trim();
  return whitespace.leading + rule(node, content, siblings, index) + whitespace.trailing;
}

function rule(node: LightElement, content: string, siblings: LightNode[], index: number): string {
  if (isBlank(node)) return blankTablePart(node) ?? (isBlock(node) ? '\n\n' : '');
  const table = tableReplacement(node, content);
  if (table !== undefined) return table;
  const nextSibling = siblings[index + 1];
  switch (node.name) {
    case 'pre': {
      // Turndown fences only `<pre><code>`; Sphinx, Pygments and many static site
      // generators emit a bare `<pre>`, which would otherwise become escaped prose.
      // trimEnd, not /\s+$/: that one is quadratic on a long run of spaces before the last character.
      const code = textContent(node).replace(/^\n+/, '').trimEnd();
      if (code.length === 0) return '';
      const fence = fenceFor(code);
      return `\n\n${fence}${languages.get(node) ?? ''}\n${code}\n${fence}\n\n`;
    }
    case 'dt':
      // Sphinx API signatures (`<dt class="sig">`) are spans of names, emphasis
      // and brackets; as code they read like the declaration they are.
      if (hasClass(node, 'sig')) {
        const signature = textContent(node).replace(/\s+/g, ' ').trim();
        return signature.length === 0 ? '' : `\n\n${inlineCode(signature)}\n\n`;
      }
      break;
    case 'p':
      return `\n\n${content}\n\n`;
    case 'br':
      return '  \n';
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
      return `\n\n${'#'.repeat(Number(node.name.charAt(1)))} ${content}\n\n`;
    case 'blockquote':
      return `\n\n${trimNewlines(content).replace(/^/gm, '> ')}\n\n`;
    case 'ul':
    case 'ol': {
      const parent = node.parent;
      if (parent?.name === 'li' && lastElementChild(parent) === node) return `\n${content}`;
      return `\n\n${content}\n\n`;
    }
    case 'li': {
      let prefix = '-   ';
      const parent = node.parent;
      if (parent?.name === 'ol') {
        const start = parent.attrs.start;
        const position = parent.children.filter(isElement).indexOf(node);
        prefix = `${start ? Number(start) + position : position + 1}.  `;
      }
      const isParagraph = content.endsWith('\n');
      const body = (trimNewlines(content) + (isParagraph ? '\n' : '')).replace(/\n/gm, `\n${' '.repeat(prefix.length)}`);
      return prefix + body + (nextSibling ? '\n' : '');
    }
    case 'hr':
      return '\n\n---\n\n';
    case 'a': {
      const href = node.attrs.href;
      if (!href) break;
      const title = cleanAttribute(node.attrs.title).replace(/"/g, '\\"');
      return `[${content}](${escapeLinkDestination(href)}${title ? ` "${title}"` : ''})`;
    }
    case 'em':
    case 'i':
      return content.trim() ? `*${content}*` : '';
    case 'strong':
    case 'b':
      return content.trim() ? `**${content}**` : '';
    case 'code': {
      const parent = node.parent;
      const isCodeBlock = parent?.name === 'pre' && siblings.length === 1;
      if (isCodeBlock) break;
      if (!content) return '';
      const text = content.replace(/\r?\n|\r/g, ' ');
      const extraSpace = needsCodeSpacePadding(text) ? ' ' : '';
      let delimiter = '`';
      const runs: string[] = text.match(/`+/gm) ?? [];
      while (runs.includes(delimiter)) delimiter += '`';
      return delimiter + extraSpace + text + extraSpace + delimiter;
    }
    case 'img': {
      const alt = escapeMarkdown(cleanAttribute(node.attrs.alt));
      const src = escapeLinkDestination(node.attrs.src ?? '');
      const title = cleanAttribute(node.attrs.title);
      return src ? `![${alt}](${src}${title ? ` "${title.replace(/"/g, '\\"')}"` : ''})` : '';
    }
  }
  return isBlock(node) ? `\n\n${content}\n\n` : content;
}

function lastElementChild(node: LightElement): LightElement | undefined {
  for (let i = node.children.length - 1; i >= 0; i--) {
    const child = node.children[i]!;
    if (child.type === 1) return child;
  }
  return undefined;
}

/** Leading and trailing newlines off, by scanning: /\n*$/ rescans a run of newlines from each of its positions. */
function trimNewlines(text: string): string {
  let start = 0;
  while (start < text.length && text[start] === '\n') start++;
  let end = text.length;
  while (end > start && text[end - 1] === '\n') end--;
  return text.slice(start, end);
}

/** Turndown's /(\n+\s*)+/ (nested quantifiers, exponential on a long run) is the same as /\n\s*\/: a newline and the whitespace after it. */
function cleanAttribute(value: string | undefined): string {
  return value ? value.replace(/\n\s*/g, '\n') : '';
}

/** Turndown's /^`|^ .*?[^ ].* $|`$/, which backtracks quadratically on long runs of spaces, as a scan. */
function needsCodeSpacePadding(content: string): boolean {
  const last = content.length - 1;
  if (content[0] === '`' || content[last] === '`') return true;
  return last >= 2 && content[0] === ' ' && content[last] === ' ' && /[^ ]/.test(content);
}

function escapeLinkDestination(destination: string): string {
  const escaped = destination.replace(/([<>()])/g, '\\$1');
  return escaped.includes(' ') ? `<${escaped}>` : escaped;
}

/**
 * Empties the whitespace-only lines left between list items and keeps at
 * most one blank line in a row, outside code blocks, whose blank lines are
 * content.
 */
function tidy(markdown: string): string {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    if (fence !== null) {
      if (closesFence(line, fence)) fence = null;
      lines.push(line);
    } else if (line.trim().length === 0) {
      if (lines.length > 0 && lines[lines.length - 1] !== '') lines.push('');
    } else {
      fence = fenceOpenedBy(line);
      lines.push(line);
    }
  }
  return lines.join('\n').trim();
}

/** A backtick fence longer than any backtick run that starts a line of the code. */
function fenceFor(code: string): string {
  let longest = 0;
  // Indentation is spaces and tabs: `\s*` also crossed line breaks, and
  // rescanned a run of blank lines from each of them.
  for (const match of code.matchAll(/^[ \t]*(`{3,})/gm)) longest = Math.max(longest, match[1]?.length ?? 0);
  return '`'.repeat(Math.max(3, longest + 1));
}

function inlineCode(text: string): string {
  let longest = 0;
  for (const match of text.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  const ticks = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}
