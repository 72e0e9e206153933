import { describe, expect, it } from '@jest/globals';

import { chunkMarkdown } from './chunk-markdown.ts';
import { sha256Hex } from './hash.ts';

const SENTENCE = 'List comprehensions provide a concise way to create lists from other iterables.';

function paragraph(sentences: number, tag: string): string {
  return Array.from({ length: sentences }, (_, i) => `${tag} sentence ${i + 1}: ${SENTENCE}`).join(' ');
}

const TUTORIAL = [
  '# Tutorial',
  '',
  'The tutorial introduces the language informally, one feature at a time.',
  '',
  '## Data Structures',
  '',
  'This chapter describes some things you have learned about already in more detail.',
  '',
  '### List Comprehensions',
  '',
  paragraph(12, 'First'),
  '',
  paragraph(12, 'Second'),
  '',
  '```python',
  'squares = [x**2 for x in range(10)]',
  '',
  '# A heading-looking comment inside code',
  'print(squares)',
  '```',
  '',
  '## Modules',
  '',
  'A module is a file containing Python definitions and statements, imported by name.',
].join('\n');

/** The body of a chunk: its text without the breadcrumb line and the blank line after it. */
function bodyOf(text: string, heading: string): string {
  return heading ? text.slice(heading.length + 2) : text;
}

/** Length of the longest start of `next` that `previous` ends with. */
function overlapLength(previous: string, next: string): number {
  for (let length = Math.min(previous.length, next.length); length > 0; length--) {
    if (previous.endsWith(next.slice(0, length))) return length;
  }
  return 0;
}

describe('chunkMarkdown', () => {
  it('gives each chunk the breadcrumb of its enclosing headings, as its heading and first line', () => {
    const chunks = chunkMarkdown(TUTORIAL);
    expect([...new Set(chunks.map((chunk) => chunk.heading))]).toEqual([
      'Tutorial',
      'Tutorial > Data Structures',
      'Tutorial > Data Structures > List Comprehensions',
      'Tutorial > Modules',
    ]);
    for (const chunk of chunks) expect(chunk.text.startsWith(`${chunk.heading}\n\n`)).toBe(true);
    expect(chunks.at(-1)!.text).toBe('Tutorial > Modules\n\nA module is a file containing Python definitions and statements, imported by name.');
  });

  it('keeps every chunk within maxChars, breadcrumb included, and fills chunks near the limit', () => {
    for (const maxChars of [200, 500, 1500]) {
      const chunks = chunkMarkdown(TUTORIAL, { maxChars });
      const lengths = chunks.map((chunk) => chunk.text.length);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(maxChars);
      expect(Math.max(...lengths)).toBeGreaterThan(maxChars * 0.6);
    }
  });

  it('uses the defaults: 1500 characters, 150 of overlap', () => {
    const chunks = chunkMarkdown(`# Long\n\n${paragraph(60, 'Only')}`);
    expect(chunks.length).toBeGreaterThan(3);
    expect(Math.max(...chunks.map((chunk) => chunk.charCount))).toBeLessThanOrEqual(1500);
    expect(Math.max(...chunks.map((chunk) => chunk.charCount))).toBeGreaterThan(1300);
    const overlap = overlapLength(bodyOf(chunks[0]!.text, 'Long'), bodyOf(chunks[1]!.text, 'Long'));
    expect(overlap).toBeGreaterThan(50);
    expect(overlap).toBeLessThanOrEqual(150);
  });

  it('starts each further chunk of a section with the end of the previous chunk, in whole words', () => {
    const chunks = chunkMarkdown(`# Prose\n\n${paragraph(6, 'One')}\n\n${paragraph(6, 'Two')}`, { maxChars: 400, overlapChars: 120 });
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const previous = bodyOf(chunks[i - 1]!.text, 'Prose');
      const current = bodyOf(chunks[i]!.text, 'Prose');
      const overlap = overlapLength(previous, current);
      expect(overlap).toBeGreaterThan(20);
      expect(overlap).toBeLessThanOrEqual(120);
      expect(previous.at(-overlap - 1)).toMatch(/\s/);
    }
  });

  it('overlaps a split code block by whole lines, inside one fence', () => {
    const code = Array.from({ length: 30 }, (_, i) => `total += item_${i}`).join('\n');
    const chunks = chunkMarkdown(`# Code\n\n\`\`\`python\n${code}\n\`\`\``, { maxChars: 200, overlapChars: 50 });
    expect(chunks.length).toBeGreaterThan(2);
    for (let i = 1; i < chunks.length; i++) {
      const previousLines = bodyOf(chunks[i - 1]!.text, 'Code').split('\n');
      const currentLines = bodyOf(chunks[i]!.text, 'Code').split('\n');
      expect([currentLines[0], currentLines.at(-1)]).toEqual(['```python', '```']);
      expect(currentLines.filter((line) => line.startsWith('```'))).toHaveLength(2);
      const repeated = currentLines.slice(1, -1).filter((line) => previousLines.includes(line));
      expect(repeated.length).toBeGreaterThan(0);
      expect(currentLines.slice(1, 1 + repeated.length)).toEqual(previousLines.slice(-1 - repeated.length, -1));
    }
  });

  it('does not overlap chunks of different sections', () => {
    const chunks = chunkMarkdown(TUTORIAL, { maxChars: 400, overlapChars: 120 });
    const firstModules = chunks.find((chunk) => chunk.heading === 'Tutorial > Modules')!;
    expect(bodyOf(firstModules.text, firstModules.heading).startsWith('A module is a file')).toBe(true);
  });

  it('splits an over-long paragraph on sentence boundaries', () => {
    const chunks = chunkMarkdown(`# Prose\n\n${paragraph(20, 'Long')}`, { maxChars: 300, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      const body = bodyOf(chunk.text, 'Prose');
      expect(body.startsWith('Long sentence')).toBe(true);
      expect(body.endsWith('iterables.')).toBe(true);
    }
  });

  it('splits an over-long code block on lines and re-fences every part', () => {
    const code = Array.from({ length: 60 }, (_, i) => `value_${i} = compute(${i})  # step ${i}`).join('\n');
    const chunks = chunkMarkdown(`# Code\n\n\`\`\`python\n${code}\n\`\`\``, { maxChars: 400, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThan(3);
    const lines: string[] = [];
    for (const chunk of chunks) {
      const body = bodyOf(chunk.text, 'Code');
      expect(body.startsWith('```python\n')).toBe(true);
      expect(body.endsWith('\n```')).toBe(true);
      lines.push(...body.split('\n').slice(1, -1));
    }
    expect(lines.join('\n')).toBe(code);
  });

  it('keeps two code blocks apart when an overlap from the first precedes the second', () => {
    const first = Array.from({ length: 8 }, (_, i) => `first_${i} = ${i}`).join('\n');
    const second = Array.from({ length: 8 }, (_, i) => `second_${i} = ${i}`).join('\n');
    const chunks = chunkMarkdown(`# Two\n\n\`\`\`python\n${first}\n\`\`\`\n\n\`\`\`python\n${second}\n\`\`\``, {
      maxChars: 160,
      overlapChars: 40,
    });
    const withSecond = chunks.find((chunk) => chunk.text.includes('second_0'))!;
    expect(bodyOf(withSecond.text, 'Two')).toMatch(/^```python\nfirst_\d = \d\n(first_\d = \d\n)*```\n\n```python\nsecond_0 = 0\n/);
  });

  it('keeps the short last part of a long section, which carries the overlap', () => {
    // 18 lines split as 8 + 8 + 1 at these limits: the last chunk holds one new line.
    const code = Array.from({ length: 18 }, (_, i) => `line_${i} = ${i}`).join('\n');
    const chunks = chunkMarkdown(`# Code\n\n\`\`\`python\n${code}\n\`\`\``, { maxChars: 150, overlapChars: 30 });
    expect(chunks.at(-1)!.text).toBe('Code\n\n```python\nline_15 = 15\nline_16 = 16\nline_17 = 17\n```');
    const lines = new Set(chunks.flatMap((chunk) => chunk.text.split('\n')));
    expect(code.split('\n').filter((line) => !lines.has(line))).toEqual([]);
  });

  it('does not take "#" lines inside code blocks for headings', () => {
    const chunks = chunkMarkdown(TUTORIAL);
    expect(chunks.some((chunk) => chunk.heading.includes('heading-looking'))).toBe(false);
    expect(chunks.some((chunk) => chunk.text.includes('# A heading-looking comment inside code'))).toBe(true);
  });

  it('repeats the header row of a table split across chunks', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `| \`op${i}\` | result number ${i} |`);
    const table = ['| Operation | Result |', '| --- | --- |', ...rows].join('\n');
    const chunks = chunkMarkdown(`# Ops\n\n${table}`, { maxChars: 300, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(bodyOf(chunk.text, 'Ops').startsWith('| Operation | Result |\n| --- | --- |\n|')).toBe(true);
  });

  it('strips link, code and escape syntax from breadcrumbs', () => {
    const chunks = chunkMarkdown(
      '# 5\\. Data Structures\n\n## The [`del`](https://docs.python.org/3/reference/simple_stmts.html#del) statement\n\nThere is a way to remove an item from a list given its index.',
    );
    expect(chunks.map((chunk) => chunk.heading)).toEqual(['5. Data Structures > The del statement']);
  });

  it('drops chunks with less than minChars of content, but keeps a lone short chunk', () => {
    const markdown = '# A\n\nTiny.\n\n# B\n\nThis section has enough words in it to be kept as a chunk.';
    expect(chunkMarkdown(markdown).map((chunk) => chunk.heading)).toEqual(['B']);
    expect(chunkMarkdown(markdown, { minChars: 0 }).map((chunk) => chunk.heading)).toEqual(['A', 'B']);
    expect(chunkMarkdown('# Only\n\nTiny.').map((chunk) => chunk.text)).toEqual(['Only\n\nTiny.']);
  });

  it('numbers chunks 0..n-1 in document order, hashes their text and counts their characters', () => {
    const chunks = chunkMarkdown(TUTORIAL, { maxChars: 300 });
    expect(chunks.map((chunk) => chunk.position)).toEqual(chunks.map((_, i) => i));
    expect(chunks[0]!.heading).toBe('Tutorial');
    expect(chunks.at(-1)!.heading).toBe('Tutorial > Modules');
    for (const chunk of chunks) {
      expect(chunk.hash).toBe(sha256Hex(chunk.text));
      expect(chunk.charCount).toBe(chunk.text.length);
    }
  });

  it('is deterministic: the same input gives the same chunks and hashes', () => {
    const first = chunkMarkdown(TUTORIAL, { maxChars: 300 });
    const second = chunkMarkdown(`${TUTORIAL}`, { maxChars: 300 });
    expect(second).toEqual(first);
    expect(new Set(first.map((chunk) => chunk.hash)).size).toBe(first.length);
  });

  it('keeps content before the first heading, with an empty breadcrumb', () => {
    const chunks = chunkMarkdown('Some introduction text that comes before any heading at all.\n\n# Later\n\nMore text that is long enough to be kept.');
    expect(chunks.map((chunk) => [chunk.heading, chunk.text.split('\n')[0]])).toEqual([
      ['', 'Some introduction text that comes before any heading at all.'],
      ['Later', 'Later'],
    ]);
  });

  it('gives no chunks for empty or whitespace-only Markdown', () => {
    expect(chunkMarkdown('')).toEqual([]);
    expect(chunkMarkdown('\n\n  \n# Heading only\n')).toEqual([]);
  });

  it('rejects limits that cannot hold a chunk', () => {
    expect(() => chunkMarkdown('text', { maxChars: 5 })).toThrow(RangeError);
    expect(() => chunkMarkdown('text', { overlapChars: -1 })).toThrow(RangeError);
  });

  it('closes a code block left open at the end of the document', () => {
    expect(chunkMarkdown('# A\n\n```js\nlet a = 1;').map((chunk) => chunk.text)).toEqual(['A\n\n```js\nlet a = 1;\n```']);
  });

  it('gives a one-paragraph document exactly one chunk: breadcrumb, blank line, paragraph', () => {
    const chunks = chunkMarkdown('# Title\n\nA paragraph that is certainly longer than forty characters.');
    expect(chunks).toEqual([
      {
        position: 0,
        text: 'Title\n\nA paragraph that is certainly longer than forty characters.',
        heading: 'Title',
        hash: sha256Hex('Title\n\nA paragraph that is certainly longer than forty characters.'),
        charCount: 66,
      },
    ]);
  });
});

describe('sha256Hex', () => {
  it('hashes the UTF-8 bytes as lower-case hex', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('é')).toBe(sha256Hex('\u00e9'));
  });
});
