import type TurndownService from 'turndown';

/**
 * Cells holding any of these make a table a layout grid (Sphinx's general
 * index, side-by-side lists), which reads better as the blocks it holds than
 * squeezed into one-line table cells.
 */
const BLOCK_CONTENT_SELECTOR = 'table table, pre, ul, ol, dl, blockquote, h1, h2, h3, h4, h5, h6';

/**
 * A cell with this many paragraphs is a layout column (the link columns of
 * a docs landing page); data cells hold one, now and then two.
 */
const LAYOUT_CELL_PARAGRAPHS = 3;

const dataTables = new WeakMap<Node, boolean>();

/**
 * Adds GFM table rules to `turndown`, whose core has none: without them each
 * cell becomes its own paragraph and the row structure of operator and
 * option tables is lost. Only data tables (no blocks in cells) are converted.
 * Written here instead of turndown-plugin-gfm, which keeps header-less
 * tables as raw HTML.
 */
export function addTableRules(turndown: TurndownService): void {
  turndown.addRule('tableCell', {
    filter: (node) => isDataCell(node),
    replacement: cellReplacement,
  });
  turndown.addRule('tableRow', {
    filter: (node) => node.nodeName === 'TR' && isDataTable(owningTable(node)),
    replacement: rowReplacement,
  });
  turndown.addRule('tableSection', {
    filter: (node) =>
      (node.nodeName === 'THEAD' || node.nodeName === 'TBODY' || node.nodeName === 'TFOOT') &&
      isDataTable(node.parentElement),
    replacement: (content) => content,
  });
  turndown.addRule('tableCaption', {
    filter: (node) => node.nodeName === 'CAPTION' && isDataTable(node.parentElement),
    replacement: () => '',
  });
  turndown.addRule('table', {
    filter: (node) => node.nodeName === 'TABLE' && isDataTable(node),
    replacement: (content, node) => {
      const rows = content.trim();
      if (rows.length === 0) return '';
      const firstRow = node.querySelector('tr');
      // GFM needs a header row; a table without one gets an empty header.
      const header =
        firstRow !== null && !isHeadingRow(firstRow)
          ? `${'|   '.repeat(columnCount(firstRow))}|\n${separatorRow(columnCount(firstRow))}\n`
          : '';
      const caption = (node.querySelector('caption')?.textContent ?? '').replace(/\s+/g, ' ').trim();
      return `\n\n${caption ? `${caption}\n\n` : ''}${header}${rows}\n\n`;
    },
  });
}

/**
 * Replacement for table parts turndown finds blank (no text, no images),
 * which it would otherwise turn into paragraph breaks and so cut a row in
 * two; undefined for anything else.
 */
export function blankTablePart(node: HTMLElement): string | undefined {
  if (isDataCell(node)) return cellReplacement('', node);
  if (node.nodeName === 'TR' && isDataTable(owningTable(node))) {
    return rowReplacement(Array.from(node.children, (cell) => cellReplacement('', cell)).join(''), node);
  }
  if (node.nodeName === 'TABLE' && isDataTable(node)) return '';
  return undefined;
}

function isDataCell(node: Element): boolean {
  return (node.nodeName === 'TD' || node.nodeName === 'TH') && isDataTable(owningTable(node));
}

function cellReplacement(content: string, node: Element): string {
  // A whitespace run with a line break becomes one space. Matching runs whole
  // and deciding in the callback is linear; /\s*\n+\s*/ rescanned every run
  // without a break from each of its positions.
  const cell = content.replace(/\s+/g, (run) => (run.includes('\n') ? ' ' : run)).replace(/\|/g, '\\|').trim();
  const prefix = node.previousElementSibling === null ? '| ' : ' ';
  // A spanning cell is followed by empty ones so later columns stay aligned.
  return `${prefix}${cell} |${' |'.repeat(span(node) - 1)}`;
}

function rowReplacement(content: string, node: Element): string {
  const separator = isHeadingRow(node) ? `\n${separatorRow(columnCount(node))}` : '';
  return `\n${content}${separator}`;
}

function owningTable(node: Element): Element | null {
  return node.closest('table');
}

function isDataTable(table: Element | null): boolean {
  if (table === null || table.nodeName !== 'TABLE') return false;
  let known = dataTables.get(table);
  if (known === undefined) {
    known =
      table.closest('td, th') === null &&
      table.querySelector(BLOCK_CONTENT_SELECTOR) === null &&
      Array.from(table.querySelectorAll('td, th')).every(
        (cell) => cell.getElementsByTagName('p').length < LAYOUT_CELL_PARAGRAPHS,
      );
    dataTables.set(table, known);
  }
  return known;
}

/** The first row of the table, when it sits in `<thead>` or holds only `<th>` cells. */
function isHeadingRow(row: Element): boolean {
  const table = owningTable(row);
  if (table === null || table.querySelector('tr') !== row) return false;
  if (row.parentElement?.nodeName === 'THEAD') return true;
  const cells = Array.from(row.children);
  return cells.length > 0 && cells.every((cell) => cell.nodeName === 'TH');
}

function columnCount(row: Element): number {
  let count = 0;
  for (const cell of Array.from(row.children)) count += span(cell);
  return Math.max(count, 1);
}

function span(cell: Element): number {
  const colspan = Number.parseInt(cell.getAttribute('colspan') ?? '1', 10);
  // Browsers clamp colspan to 1000; a smaller cap keeps hostile markup from
  // producing megabytes of empty cells.
  return Number.isFinite(colspan) && colspan > 0 ? Math.min(colspan, 50) : 1;
}

function separatorRow(columns: number): string {
  return `${'| --- '.repeat(columns)}|`;
}
