import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { KbflowClient } from '@kbflow/client';
import { fileBatches, type FileBatch } from './ingest-batches.ts';
import { ingestCommand, parseIngestArgs } from './ingest.command.ts';

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
      mode: 'incremental',
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
    [['a.csv', '--mode', 'mirror'], /--mode must be incremental or full/],
    [['a.csv', '--as', 'cases', '--mode', 'full'], /--mode full applies to records/],
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

describe('ingestCommand --mode full: the request sequence', () => {
  /** What a local stand-in for the API saw, in order: each POST's query when it arrived and when it was answered. */
  interface Seen {
    events: string[];
    queries: URLSearchParams[];
    keys: (string | undefined)[];
  }

  /** A stand-in API answering each POST /v1/records after a pause (so batches overlap), or with `fail(offset)`'s status. */
  async function standIn(fail: (rowOffset: string) => number | undefined = () => undefined): Promise<{ server: Server; url: string; seen: Seen }> {
    const seen: Seen = { events: [], queries: [], keys: [] };
    const server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET') return reply(200, { id: url.pathname.split('/').at(-1), state: 'completed', progress: { embedded: 0, toEmbed: 0 } });
      const offset = url.searchParams.get('rowOffset')!;
      seen.queries.push(url.searchParams);
      seen.keys.push(req.headers['idempotency-key'] as string | undefined);
      seen.events.push(`sent ${offset}`);
      req.resume().on('end', () => {
        const status = fail(offset);
        setTimeout(() => {
          seen.events.push(`answered ${offset}`);
          if (status) reply(status, { error: { code: 'invalid_json', message: 'no good' } });
          else {
            const final = url.searchParams.get('final') === 'true';
            reply(202, { taskId: `task-${offset}`, received: 2, accepted: 2, unchanged: 2, deleted: final ? 1 : 0, invalid: 0, errors: [], sync: { final } });
          }
        }, 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const file = () => write('five.ndjson', ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => JSON.stringify({ id, body: id })).join('\n'));
  const run = (url: string, lines: string[]) =>
    ingestCommand(
      [file(), '--source', 's', '--mode', 'full', '--batch-rows', '2'],
      { url, key: 'k', client: new KbflowClient({ baseUrl: url, apiKey: 'k', retry: { attempts: 1 } }) },
      (l) => lines.push(l),
    );

  it('sends every batch with one sync id, and final=true on the last only once every other batch was answered', async () => {
    const { server, url, seen } = await standIn();
    const lines: string[] = [];
    try {
      await run(url, lines);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(seen.queries.map((q) => [q.get('rowOffset'), q.get('mode'), q.get('final')])).toEqual([
      ['0', 'full', null],
      ['2', 'full', null],
      ['4', 'full', null],
      ['6', 'full', 'true'],
    ]);
    const ids = new Set(seen.queries.map((q) => q.get('sync')));
    expect(ids.size).toBe(1);
    const [sync] = [...ids];
    expect(sync).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.keys).toEqual(['0', '2', '4', '6'].map((offset) => `${sync}-${offset}`));
    // Two in flight before the last batch; the last only after all three answers.
    expect(seen.events.indexOf('sent 2')).toBeLessThan(seen.events.indexOf('answered 0'));
    expect(seen.events.slice(-2)).toEqual(['sent 6', 'answered 6']);
    expect(lines).toContain(`sync ${sync} finished: records the file no longer contains were deleted`);
    expect(lines).toContain('received 8, accepted 8, unchanged 8, deleted 1, invalid 0');
  });

  it('a batch that fails for good: the final batch is never sent, and the error says nothing was deleted', async () => {
    const { server, url, seen } = await standIn((offset) => (offset === '2' ? 400 : undefined));
    try {
      await expect(run(url, [])).rejects.toThrow(
        /rows 3-4: POST \/v1\/records answered 400: no good\nno record was deleted: sync [0-9a-f-]{36} was not finished/,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(seen.queries.some((q) => q.has('final'))).toBe(false);
  });

  it('without --mode full, batches go as before: no sync, no final, no Idempotency-Key', async () => {
    const { server, url, seen } = await standIn();
    try {
      await ingestCommand(
        [file(), '--source', 's', '--batch-rows', '2'],
        { url, key: 'k', client: new KbflowClient({ baseUrl: url, apiKey: 'k', retry: { attempts: 1 } }) },
        () => undefined,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(seen.queries.map((q) => [...q.keys()].sort())).toEqual(Array(4).fill(['rowOffset', 'source']));
    expect(seen.keys).toEqual([undefined, undefined, undefined, undefined]);
  });
});
