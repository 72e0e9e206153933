import { closest, descendantsNamed, elementChildren, hasDescendantNamed, textContent, type LightElement } from './light-tree.ts';

/**
 * Cells holding any of these make a table a layout grid (Sphinx's general
 * index, side-by-side lists), which reads better as the blocks it holds than
 * squeezed into one-line table cells.
 */
const BLOCK_CONTENT: ReadonlySet<string> = new Set(['table', 'pre', 'ul', 'ol', 'dl', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

/**
 * A cell with this many paragraphs is a layout column (the link columns of
 * a docs landing page); data cells hold one, now and then two.
 */
const LAYOUT_CELL_PARAGRAPHS = 3;

const TABLE: ReadonlySet<string> = new Set(['table']);
const CELLS: ReadonlySet<string> = new Set(['td', 'th']);
const ROWS: ReadonlySet<string> = new Set(['tr']);
const PARAGRAPHS: ReadonlySet<string> = new Set(['p']);

const dataTables = new WeakMap<LightElement, boolean>();
const firstRows = new WeakMap<LightElement, LightElement | undefined>();

/** The table's first row in document order (memoized: every row of a table asks). */
function firstRowOf(table: LightElement): LightElement | undefined {
  if (!firstRows.has(table)) firstRows.set(table, descendantsNamed(table, ROWS)[0]);
  return firstRows.get(table);
}

/**
 * GFM tables, which turndown's core does not have: without them each cell
 * becomes its own paragraph and the row structure of operator and option
 * tables is lost. Only data tables (no blocks in cells) are converted.
 * Returns the Markdown of a table part, or undefined for any other element.
 */
export function tableReplacement(node: LightElement, content: string): string | undefined {
  switch (node.name) {
    case 'td':
    case 'th':
      return isDataCell(node) ? cellReplacement(content, node) : undefined;
    case 'tr':
      return isDataTable(owningTable(node)) ? rowReplacement(content, node) : undefined;
    case 'thead':
    case 'tbody':
    case 'tfoot':
      return isDataTable(node.parent) ? content : undefined;
    case 'caption':
      return isDataTable(node.parent) ? '' : undefined;
    case 'table': {
      if (!isDataTable(node)) return undefined;
      const rows = content.trim();
      if (rows.length === 0) return '';
      const firstRow = firstRowOf(node);
      // GFM needs a header row; a table without one gets an empty header.
      const header =
        firstRow !== undefined && !isHeadingRow(firstRow) ? `${'|   '.repeat(columnCount(firstRow))}|\n${separatorRow(columnCount(firstRow))}\n` : '';
      const captionElement = descendantsNamed(node, new Set(['caption']))[0];
      const caption = (captionElement ? textContent(captionElement) : '').replace(/\s+/g, ' ').trim();
      return `\n\n${caption ? `${caption}\n\n` : ''}${header}${rows}\n\n`;
    }
    default:
      return undefined;
  }
}

/**
 * Replacement for table parts found blank (no text, no images), which would
 * otherwise become paragraph breaks and so cut a row in two; undefined for
 * anything else.
 */
export function blankTablePart(node: LightElement): string | undefined {
  if (isDataCell(node)) return cellReplacement('', node);
  if (node.name === 'tr' && isDataTable(owningTable(node))) {
    return rowReplacement(
      elementChildren(node)
        .map((cell) => cellReplacement('', cell))
        .join(''),
      node,
    );
  }
  if (node.name === 'table' && isDataTable(node)) return '';
  return undefined;
}

function isDataCell(node: LightElement): boolean {
  return (node.name === 'td' || node.name === 'th') && isDataTable(owningTable(node));
}

function cellReplacement(content: string, node: LightElement): string {
  // A whitespace run with a line break becomes one space. Matching runs whole
  // and deciding in the callback is linear; /\s*\n+\s*/ rescanned every run
  // without a break from each of its positions.
  const cell = content
    .replace(/\s+/g, (run) => (run.includes('\n') ? ' ' : run))
    .replace(/\|/g, '\\|')
    .trim();
  const siblings = node.parent ? elementChildren(node.parent) : [node];
  const prefix = siblings[0] === node ? '| ' : ' ';
  // A spanning cell is followed by empty ones so later columns stay aligned.
  return `${prefix}${cell} |${' |'.repeat(span(node) - 1)}`;
}

function rowReplacement(content: string, node: LightElement): string {
  const separator = isHeadingRow(node) ? `\n${separatorRow(columnCount(node))}` : '';
  return `\n${content}${separator}`;
}

function owningTable(node: LightElement): LightElement | null {
  return closest(node, TABLE);
}

function isDataTable(table: LightElement | null): boolean {
  if (table === null || table.name !== 'table') return false;
  let known = dataTables.get(table);
  if (known === undefined) {
    known =
      (table.parent === null || closest(table.parent, CELLS) === null) &&
      !hasDescendantNamed(table, BLOCK_CONTENT) &&
      descendantsNamed(table, CELLS).every((cell) => descendantsNamed(cell, PARAGRAPHS).length < LAYOUT_CELL_PARAGRAPHS);
    dataTables.set(table, known);
  }
  return known;
}

/** The first row of the table, when it sits in `<thead>` or holds only `<th>` cells. */
function isHeadingRow(row: LightElement): boolean {
  const table = owningTable(row);
  if (table === null || firstRowOf(table) !== row) return false;
  if (row.parent?.name === 'thead') return true;
  const cells = elementChildren(row);
  return cells.length > 0 && cells.every((cell) => cell.name === 'th');
}

function columnCount(row: LightElement): number {
  let count = 0;
  for (const cell of elementChildren(row)) count += span(cell);
  return Math.max(count, 1);
}

function span(cell: LightElement): number {
  const colspan = Number.parseInt(cell.attrs.colspan ?? '1', 10);
  // Browsers clamp colspan to 1000; a smaller cap keeps hostile markup from
  // producing megabytes of empty cells.
  return Number.isFinite(colspan) && colspan > 0 ? Math.min(colspan, 50) : 1;
}

function separatorRow(columns: number): string {
  return `${'| --- '.repeat(columns)}|`;
}
