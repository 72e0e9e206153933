import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { fileBatches, type FileBatch } from './ingest-batches.ts';
import { parseIngestArgs } from './ingest.command.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'kbflow-ingest-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

async function collect(file: string, format: 'csv' | 'ndjson' | 'json', rows: number, errors: unknown[] = []): Promise<FileBatch[]> {
  const out: FileBatch[] = [];
  for await (const b of fileBatches(file, format, rows, { onBytes: () => undefined, onRowError: (e) => errors.push(e) })) out.push(b);
  return out;
}

describe('parseIngestArgs', () => {
  it('maps flags to the API query parameters and takes the format from the extension', () => {
    const args = parseIngestArgs([
      't.CSV',
      '--source',
      'support',
      '--knowledge-base',
      'kb1',
      '--id-prefix',
      'x-',
      '--title-column',
      'Subject',
      '--batch-rows',
      '500',
    ]);
    expect(args).toEqual({
      file: 't.CSV',
      format: 'csv',
      as: 'records',
      batchRows: 500,
      maxErrors: 20,
      query: { source: 'support', knowledgeBase: 'kb1', idPrefix: 'x-', titleColumn: 'Subject' },
    });
  });

  it('sends cases to the same column parameters', () => {
    expect(parseIngestArgs(['t.ndjson', '--as', 'cases', '--id-prefix', 'c-'])).toMatchObject({ as: 'cases', format: 'ndjson', query: { idPrefix: 'c-' } });
  });

  it.each([
    [['a.txt'], /--format/],
    [['a.csv', '--format', 'xml'], /csv, ndjson or json/],
    [['a.csv', '--batch-rows', '0'], /--batch-rows must be an integer/],
    [['a.csv', '--as', 'pages'], /--as must be one of records, cases/],
    [['a.csv', '--as', 'cases', '--source', 's'], /--source applies to records/],
    [[], /usage/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseIngestArgs(argv)).toThrow(message);
  });
});

describe('fileBatches', () => {
  it('sends CSV as NDJSON keyed by the header, quoting intact; a ragged row is reported and kept as a blank line', async () => {
    const file = write('t.csv', '\ufeffid,title,body\r\n1,"a, b","line one\r\nline ""two"""\r\n\r\n2,c,d\r\n3,e\r\n4,f,g\r\n');
    const errors: unknown[] = [];
    const batches = await collect(file, 'csv', 2, errors);
    expect(batches.map((b) => [b.rows, b.rowOffset, b.contentType])).toEqual([
      [2, 0, 'application/x-ndjson'],
      [1, 2, 'application/x-ndjson'],
    ]);
    expect(
      batches[0]!.body
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { id: '1', title: 'a, b', body: 'line one\r\nline "two"' },
      { id: '2', title: 'c', body: 'd' },
    ]);
    // Row 3 is ragged: a blank line holds its place, so row 4 stays row 4 at the API.
    expect(batches[1]!.body.toString()).toBe('\n{"id":"4","title":"f","body":"g"}\n');
    expect(errors).toEqual([{ row: 3, field: 'row', reason: 'has 2 columns; the header has 3' }]);
  });

  it('refuses a CSV header the API would refuse', async () => {
    await expect(collect(write('dup.csv', 'id,body,body\n1,a,b\n'), 'csv', 2)).rejects.toThrow(/"body" twice/);
  });

  it('sends NDJSON by lines so row numbers are line numbers, skipping batches of blank lines only', async () => {
    const file = write('t.ndjson', '{"id":1}\n\n\n\n{"id":5}\n');
    const batches = await collect(file, 'ndjson', 2);
    expect(batches.map((b) => [b.rowOffset, b.rows, b.body.toString()])).toEqual([
      [0, 1, '{"id":1}\n\n'],
      [4, 1, '{"id":5}\n'],
    ]);
  });

  it('splits a JSON array and refuses anything else', async () => {
    const batches = await collect(write('t.json', JSON.stringify([{ id: 1 }, { id: 2 }, { id: 3 }])), 'json', 2);
    expect(batches.map((b) => [b.rowOffset, JSON.parse(b.body.toString())])).toEqual([
      [0, [{ id: 1 }, { id: 2 }]],
      [2, [{ id: 3 }]],
    ]);
    await expect(collect(write('o.json', '{"records": []}'), 'json', 2)).rejects.toThrow(/JSON array/);
  });
});
