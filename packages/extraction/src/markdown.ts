import TurndownService from 'turndown';

import { closesFence, fenceOpenedBy } from './fences.ts';
import { addTableRules, blankTablePart } from './markdown-tables.ts';

const LANGUAGE_CLASS_RE = /(?:^|\s)(?:language|lang|highlight)-([\w+#.-]+)/;

/** Sphinx names languages after its lexers; these have a common Markdown name or none. */
const LANGUAGE_ALIASES: Readonly<Record<string, string>> = {
  default: '',
  none: '',
  text: '',
  python3: 'python',
  py3: 'python',
};

const LANGUAGE_ATTRIBUTE = 'data-kbflow-language';

let service: TurndownService | undefined;

/**
 * Converts a content element to Markdown: ATX headings, fenced code blocks
 * (with the language when the markup names one), `-` bullets, `*` emphasis
 * (so `_` inside identifiers never reads as emphasis), GFM tables for simple
 * data tables. Modifies `root` (whitespace is collapsed in place).
 */
export function toMarkdown(root: Element): string {
  service ??= createService();
  flattenCode(root);
  // Turndown converts a deep clone of its input so the caller's DOM survives.
  // Ours is a throwaway parse, and on linkedom the clone (an event-target map
  // per node and attribute) costs as much as the conversion itself, so the
  // clone handed over is the element itself. Turndown then collapses
  // whitespace in `root` in place.
  const uncloned = { nodeType: root.nodeType, cloneNode: () => root } as unknown as HTMLElement;
  return tidy(service.turndown(uncloned));
}

/**
 * Empties the whitespace-only lines turndown leaves between list items and
 * keeps at most one blank line in a row, outside code blocks, whose blank
 * lines are content.
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

function createService(): TurndownService {
  const turndown = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '*',
    strongDelimiter: '**',
    hr: '---',
    blankReplacement: (_content, node) =>
      blankTablePart(node) ?? ((node as HTMLElement & { isBlock?: boolean }).isBlock === true ? '\n\n' : ''),
  });
  // Turndown fences only `<pre><code>`; Sphinx, Pygments and many static site
  // generators emit a bare `<pre>`, which would otherwise become escaped prose.
  turndown.addRule('preformatted', {
    filter: (node) => node.nodeName === 'PRE',
    replacement: (_content, node) => {
      // trimEnd, not /\s+$/: that one is quadratic on a long run of spaces before the last character.
      const code = (node.textContent ?? '').replace(/^\n+/, '').trimEnd();
      if (code.length === 0) return '';
      const fence = fenceFor(code);
      return `\n\n${fence}${node.getAttribute(LANGUAGE_ATTRIBUTE) ?? ''}\n${code}\n${fence}\n\n`;
    },
  });
  // Sphinx API signatures (`<dt class="sig">`) are spans of names, emphasis
  // and brackets; as code they read like the declaration they are.
  turndown.addRule('apiSignature', {
    filter: (node) => node.nodeName === 'DT' && node.classList.contains('sig'),
    replacement: (_content, node) => {
      const signature = (node.textContent ?? '').replace(/\s+/g, ' ').trim();
      return signature.length === 0 ? '' : `\n\n${inlineCode(signature)}\n\n`;
    },
  });
  addTableRules(turndown);
  return turndown;
}

/**
 * Replaces the content of code blocks, inline code and API signatures with
 * its text. Their rules read only the text, but turndown would first convert
 * every highlighting `<span>` inside them (Pygments wraps each token), half
 * of the nodes on a code-heavy page. A block's language, named by classes
 * on elements about to go, is kept in an attribute.
 */
function flattenCode(root: Element): void {
  for (const pre of Array.from(root.getElementsByTagName('pre'))) {
    const language = codeLanguage(pre);
    pre.textContent = pre.textContent;
    if (language) pre.setAttribute(LANGUAGE_ATTRIBUTE, language);
  }
  for (const code of Array.from(root.getElementsByTagName('code'))) code.textContent = code.textContent;
  for (const term of Array.from(root.getElementsByTagName('dt'))) {
    if (term.classList.contains('sig')) term.textContent = term.textContent;
  }
}

function codeLanguage(pre: Element): string {
  const candidates: (Element | null)[] = [pre, pre.firstElementChild, pre.parentElement, pre.parentElement?.parentElement ?? null];
  for (const element of candidates) {
    const match = LANGUAGE_CLASS_RE.exec(element?.getAttribute('class') ?? '');
    if (match?.[1] !== undefined) {
      const name = match[1].toLowerCase();
      return LANGUAGE_ALIASES[name] ?? name;
    }
  }
  return '';
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
