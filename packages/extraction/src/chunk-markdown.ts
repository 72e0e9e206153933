// Hand-written instead of LangChain's RecursiveCharacterTextSplitter: that
// drags in @langchain/core, and we want heading breadcrumbs on every chunk
// and positions that depend on nothing but the input (re-chunking an
// unchanged page must give the same chunks, hashes and positions, so its
// embeddings can be reused).
import { closesFence, fenceOpenedBy } from './fences.ts';
import { sha256Hex } from './hash.ts';
import { isTableDelimiterRow, parseAtxHeading } from './linear-text.ts';

/** One retrievable piece of a document. */
export interface TextChunk {
  /** 0-based index among the document's chunks, in document order. */
  position: number;
  /** The breadcrumb line, a blank line, then the content (Markdown). */
  text: string;
  /** Breadcrumb of the enclosing headings: `Tutorial > Data Structures > List Comprehensions`; empty before the first heading. */
  heading: string;
  /** `sha256Hex(text)`. */
  hash: string;
  /** `text.length` (UTF-16 code units, the unit all limits are in). */
  charCount: number;
}

/** Limits for {@link chunkMarkdown}, all in characters (UTF-16 code units). */
export interface ChunkOptions {
  /** Upper bound on a chunk's `text`, breadcrumb included. Default 1500; at least 20. */
  maxChars?: number;
  /** Text repeated from the end of a chunk at the start of the next chunk of the same section. Default 150. */
  overlapChars?: number;
  /** Chunks with less content than this (breadcrumb not counted) are dropped, unless nothing else is left. Default 40. */
  minChars?: number;
}

const DEFAULT_MAX_CHARS = 1500;
const DEFAULT_OVERLAP_CHARS = 150;
const DEFAULT_MIN_CHARS = 40;
const MIN_MAX_CHARS = 20;
const BREADCRUMB_SEPARATOR = ' > ';
const BLOCK_SEPARATOR = '\n\n';

// Whitespace after a sentence's end and up to three closing brackets or
// quotes. The lookbehind is bounded: unbounded, every space of a long run
// looked back over it (quadratic); so only the first space of a run passes
// it, and the run is scanned once.
const SENTENCE_END_RE = /(?<=[.!?][)\]"'’”]{0,3})\s+(?=\S)/;

/**
 * A block that must not be cut as prose: a fenced code block (head: the
 * opening fence, tail: the closing one) or a table (head: the header and
 * separator rows). Split parts repeat head and tail so each stays valid.
 */
interface Piece {
  text: string;
  head: string[];
  lines: string[];
  tail: string[];
  /** The block this piece was split or overlapped from; itself for a whole block. */
  origin?: Piece;
}

interface Section {
  heading: string;
  blocks: Piece[];
}

/**
 * Splits Markdown into retrieval chunks.
 *
 * - Sections start at ATX headings (outside code blocks); a chunk's `heading`
 *   is the breadcrumb of the headings enclosing it, and its `text` starts
 *   with that breadcrumb on its own line (cut to a third of `maxChars` if
 *   longer), so a chunk read alone says where it comes from. The heading
 *   lines themselves are not repeated in the content.
 * - A section's blocks (paragraphs, lists, code blocks, tables) are packed
 *   into chunks of at most `maxChars`. Longer blocks are split: prose on line,
 *   then sentence, then word boundaries; code blocks on lines, each part
 *   re-fenced; tables on rows, each part under the header row.
 * - Consecutive chunks of one section overlap by up to `overlapChars`: the
 *   next chunk starts with the end of the previous one (whole sentences or
 *   words; whole lines, re-fenced, of code).
 * - Chunks with less than `minChars` of content (breadcrumb not counted) are
 *   dropped, unless that would leave none; then the longest one is kept. A
 *   section's last chunk carries the overlap, so the end of a long section
 *   is never dropped for being short; a section of a few words is.
 *
 * Deterministic: the same input and options give the same chunks, hashes
 * and positions.
 *
 * @throws RangeError when `maxChars` is below 20 or a limit is negative.
 */
export function chunkMarkdown(markdown: string, opts: ChunkOptions = {}): TextChunk[] {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const overlapChars = opts.overlapChars ?? DEFAULT_OVERLAP_CHARS;
  const minChars = opts.minChars ?? DEFAULT_MIN_CHARS;
  if (!(maxChars >= MIN_MAX_CHARS) || !(overlapChars >= 0) || !(minChars >= 0)) {
    throw new RangeError(`chunkMarkdown: need maxChars >= ${MIN_MAX_CHARS} and non-negative limits`);
  }
  const candidates: { heading: string; text: string; bodyChars: number }[] = [];
  for (const section of parseSections(markdown)) {
    const headingLine = truncate(section.heading, Math.floor(maxChars / 3));
    const prefix = headingLine ? `${headingLine}${BLOCK_SEPARATOR}` : '';
    const budget = maxChars - prefix.length;
    // Bounded so a split part plus the overlap always fits, and every chunk
    // carries new content.
    const overlap = Math.min(Math.floor(overlapChars), Math.floor(budget / 4));
    for (const body of packSection(section.blocks, budget, overlap)) {
      candidates.push({ heading: section.heading, text: prefix + body, bodyChars: body.length });
    }
  }
  let kept = candidates.filter((candidate) => candidate.bodyChars >= minChars);
  if (kept.length === 0 && candidates.length > 0) {
    kept = [candidates.reduce((best, candidate) => (candidate.bodyChars > best.bodyChars ? candidate : best))];
  }
  return kept.map((candidate, position) => ({
    position,
    text: candidate.text,
    heading: candidate.heading,
    hash: sha256Hex(candidate.text),
    charCount: candidate.text.length,
  }));
}

function parseSections(markdown: string): Section[] {
  const sections: Section[] = [];
  const trail: { level: number; text: string }[] = [];
  let section: Section = { heading: '', blocks: [] };
  let paragraph: string[] = [];
  let code: { fence: string; lines: string[] } | null = null;

  const flushParagraph = (): void => {
    if (paragraph.length > 0) section.blocks.push(proseOrTable(paragraph));
    paragraph = [];
  };
  const flushCode = (closing: string): void => {
    if (code !== null) section.blocks.push(structured([code.lines[0]!], code.lines.slice(1), [closing]));
    code = null;
  };

  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    if (code !== null) {
      if (closesFence(line, code.fence)) flushCode(line);
      else code.lines.push(line);
      continue;
    }
    const fence = fenceOpenedBy(line);
    if (fence !== null) {
      flushParagraph();
      code = { fence, lines: [line] };
      continue;
    }
    const heading = parseAtxHeading(line);
    if (heading !== undefined) {
      flushParagraph();
      if (section.blocks.length > 0) sections.push(section);
      const level = heading.level;
      while (trail.length > 0 && trail[trail.length - 1]!.level >= level) trail.pop();
      trail.push({ level, text: headingText(heading.text) });
      section = {
        heading: trail
          .map((entry) => entry.text)
          .filter(Boolean)
          .join(BREADCRUMB_SEPARATOR),
        blocks: [],
      };
      continue;
    }
    if (line.trim().length === 0) flushParagraph();
    else paragraph.push(line);
  }
  // An unclosed code block runs to the end of the document (CommonMark).
  if (code !== null) flushCode(code.fence);
  flushParagraph();
  if (section.blocks.length > 0) sections.push(section);
  return sections;
}

/** Heading Markdown as plain text: link and image syntax, code ticks, emphasis and escapes removed. */
function headingText(markdown: string): string {
  return (
    markdown
      // Link text may hold escapes but no bracket and the target no
      // parenthesis: a scan then never runs past the next bracket or
      // parenthesis, so a line of thousands of `[` stays linear.
      .replace(/!?\[((?:\\[^[\]]|[^\]\\[])*)\]\([^()]*\)/g, '$1')
      .replace(/`+/g, '')
      // Emphasis that does not contain `*`: same reason.
      .replace(/(\*{1,2})(?=[^\s*])([^*]*[^\s*])\1/g, '$2')
      .replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

function proseOrTable(lines: string[]): Piece {
  const [header, separator, ...rows] = lines;
  if (header?.trimStart().startsWith('|') && separator !== undefined && isTableDelimiterRow(separator)) {
    return structured([header, separator], rows, []);
  }
  return prose(lines.join('\n'));
}

function prose(text: string): Piece {
  return { text, head: [], lines: [], tail: [] };
}

function structured(head: string[], lines: string[], tail: string[]): Piece {
  return { text: [...head, ...lines, ...tail].join('\n'), head, lines, tail };
}

function isStructured(piece: Piece): boolean {
  return piece.head.length > 0;
}

/** Packs a section's blocks into chunk bodies of at most `budget`, each starting with `overlap` from the one before. */
function packSection(blocks: Piece[], budget: number, overlap: number): string[] {
  const limit = budget - overlap - BLOCK_SEPARATOR.length;
  const pieces = blocks.flatMap((block) => splitPiece(block, limit));
  const bodies: string[] = [];
  let current: Piece[] = [];
  let newChars = 0;
  const length = (): number => joinPieces(current).length;
  for (const piece of pieces) {
    if (newChars > 0 && length() + BLOCK_SEPARATOR.length + piece.text.length > budget) {
      bodies.push(joinPieces(current));
      const tail = overlapOf(current[current.length - 1]!, overlap);
      current = tail === null ? [] : [tail];
      newChars = 0;
    }
    const last = current[current.length - 1];
    if (newChars === 0 && last !== undefined && continuesBlock(last, piece)) {
      // The overlap and the next part of the same code block or table
      // share one fence or header instead of standing as two blocks.
      current[current.length - 1] = { ...structured(piece.head, [...last.lines, ...piece.lines], piece.tail), origin: piece.origin };
      newChars += piece.lines.join('\n').length + 1;
    } else {
      newChars += (current.length > 0 ? BLOCK_SEPARATOR.length : 0) + piece.text.length;
      current.push(piece);
    }
  }
  if (newChars > 0) bodies.push(joinPieces(current));
  return bodies;
}

function joinPieces(pieces: Piece[]): string {
  return pieces.map((piece) => piece.text).join(BLOCK_SEPARATOR);
}

function continuesBlock(previous: Piece, next: Piece): boolean {
  return isStructured(previous) && previous.origin !== undefined && previous.origin === next.origin;
}

/** Splits a block longer than `limit` into parts that each fit. */
function splitPiece(piece: Piece, limit: number): Piece[] {
  if (piece.text.length <= limit) return [{ ...piece, origin: piece }];
  if (isStructured(piece)) {
    const frame = [...piece.head, ...piece.tail].join('\n').length + 1;
    if (limit - frame >= MIN_MAX_CHARS / 2) {
      return packUnits(
        piece.lines.flatMap((line) => splitText(line, limit - frame)),
        '\n',
        limit - frame,
      ).map((part) => ({
        ...structured(piece.head, part === '' ? [] : part.split('\n'), piece.tail),
        origin: piece,
      }));
    }
  }
  return splitText(piece.text, limit).map(prose);
}

/** Splits prose into parts of at most `limit`: on lines, then sentences, then words, then anywhere. */
function splitText(text: string, limit: number): string[] {
  if (text.length <= limit) return [text];
  for (const [separator, joiner] of [
    ['\n', '\n'],
    [SENTENCE_END_RE, ' '],
    [/\s+/, ' '],
  ] as const) {
    const units = text.split(separator).filter((unit) => unit.length > 0);
    if (units.length > 1)
      return packUnits(
        units.flatMap((unit) => splitText(unit, limit)),
        joiner,
        limit,
      );
  }
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += limit) parts.push(text.slice(start, start + limit));
  return parts;
}

/** Greedily joins units (each at most `limit`) into parts of at most `limit`. */
function packUnits(units: string[], joiner: string, limit: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (const unit of units) {
    if (current.length > 0 && current.length + joiner.length + unit.length > limit) {
      parts.push(current);
      current = unit;
    } else {
      current = current.length > 0 ? current + joiner + unit : unit;
    }
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts;
}

/**
 * The end of a piece, at most `size` long, to open the next chunk with:
 * whole lines of code or table rows under their fence or header, else the
 * last sentences or words of prose. Null when nothing whole fits.
 */
function overlapOf(piece: Piece, size: number): Piece | null {
  if (size <= 0) return null;
  if (isStructured(piece)) {
    let length = [...piece.head, ...piece.tail].join('\n').length + 1;
    let start = piece.lines.length;
    while (start > 0 && length + piece.lines[start - 1]!.length + 1 <= size) length += piece.lines[--start]!.length + 1;
    if (start === piece.lines.length) return null;
    return { ...structured(piece.head, piece.lines.slice(start), piece.tail), origin: piece.origin };
  }
  if (piece.text.length <= size) return piece;
  const window = piece.text.slice(-size);
  const sentence = window.search(SENTENCE_END_RE);
  if (sentence >= 0) {
    const afterSentence = window.slice(sentence).trimStart();
    if (afterSentence.length >= size / 3) return prose(afterSentence);
  }
  const space = window.search(/\s/);
  const afterWord = space >= 0 ? window.slice(space).trimStart() : window;
  return afterWord.length > 0 ? prose(afterWord) : null;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}
