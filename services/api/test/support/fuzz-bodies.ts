// Generators for the fuzz test's bulk bodies, to the record and case
// routes. Every body here is wrong as a whole: a bulk body (JSON array,
// NDJSON, CSV, upload) whose every row is invalid, or that cannot be read at
// all, or a valid one with a bad query string, content type, encoding or
// size. A bulk body with some valid rows is a legitimate 202 with per-row
// errors, so none is ever generated here. Object bodies, ids and listing
// queries are in fuzz-requests.ts.
import { gzipSync } from 'node:zlib';
import type { Fuzz } from './fuzz.ts';

/** The fuzz API's cap on a bulk body (KBFLOW_RECORDS_MAX_BYTES), small so that oversize bodies stay cheap. */
export const RECORDS_MAX_BYTES = 64 * 1024;

/** A request body with the headers that describe it; they replace any random Content-Type and Content-Encoding. */
export interface BodySpec {
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  /** A query string (without `?`) to append to the path. */
  query?: string;
  /** Send without Content-Length (chunked), so only the streaming byte cap can stop it. */
  chunked?: boolean;
}

type BulkRoute = '/v1/records' | '/v1/cases';

/** One row each route accepts, and the CSV of that row. */
const VALID_ROW: Record<BulkRoute, Record<string, string>> = {
  '/v1/records': { id: 'r-1', title: 'Reset a password', body: 'Open the account page.' },
  '/v1/cases': { externalId: 'c-1', subject: 'Login fails', description: 'Since the update.' },
};
const validCsv = (route: BulkRoute) => `${Object.keys(VALID_ROW[route]).join(',')}\n${Object.values(VALID_ROW[route]).join(',')}\n`;
/** Two lines, so that the NDJSON is never a JSON document by accident. */
const validNdjson = (route: BulkRoute) =>
  `${JSON.stringify(VALID_ROW[route])}\n${JSON.stringify({ ...VALID_ROW[route], [route === '/v1/records' ? 'id' : 'externalId']: 'x-2' })}\n`;

/** A JSON row of `/v1/records` that is invalid for a reason that survives NUL removal. */
function invalidRecordRow(f: Fuzz): unknown {
  const row: Record<string, unknown> = { id: `r-${f.int(0, 99)}`, title: f.pick(['Title', f.unstorable()]), body: f.pick(['Some text.', f.unstorable()]) };
  if (f.bool(0.3)) row.metadata = { note: f.unstorable() };
  switch (f.int(0, 5)) {
    case 0:
      if (f.bool(0.3)) delete row.id;
      else row.id = f.pick(['', '   ', '\u0000', ' \u0000 ', 'i'.repeat(257), {}, ['i'], true, null]);
      break;
    case 1:
      if (f.bool(0.3)) delete row.body;
      else row.body = f.pick(['', '   ', '\u0000', ' \u0000\u0000 ', 5, null, {}, ['b'], true]);
      break;
    case 2:
      row.title = f.pick(['t'.repeat(1001), 5, {}, ['t'], true]);
      break;
    case 3:
      if (f.bool(0.3)) row[f.pick(['extra', 'tags', '\u0000'])] = f.pick([{ a: 1 }, [1], { a: null }]);
      else row.metadata = f.pick(['m', [], 5, null, { a: { b: 1 } }, { a: [1] }, { '': 1 }, { '\u0000': 1 }, { ['k'.repeat(201)]: 1 }]);
      break;
    case 4:
      row.deleted = f.pick(['maybe', 2, {}, 'yes please', []]);
      break;
    default:
      return f.pick([null, 1, 'row', [], [row]]);
  }
  return row;
}

/** A JSON row of `POST /v1/cases` (bulk) that is invalid for a reason that survives NUL removal. */
function invalidCaseRow(f: Fuzz): unknown {
  const row: Record<string, unknown> = {
    externalId: `c-${f.int(0, 99)}`,
    subject: f.pick(['Login fails', f.unstorable()]),
    description: f.pick(['', f.unstorable()]),
  };
  if (f.bool(0.3)) row.metadata = { note: f.unstorable() };
  switch (f.int(0, 5)) {
    case 0:
      if (f.bool(0.3)) delete row.externalId;
      else row.externalId = f.pick(['', '   ', '\u0000', ' \u0000 ', 'e'.repeat(257), {}, ['e'], true, null]);
      break;
    case 1:
      if (f.bool(0.3)) delete row.subject;
      else row.subject = f.pick(['', '   ', '\u0000', '\u0000 \u0000', 's'.repeat(1001), {}, ['s'], true, null]);
      break;
    case 2:
      // Numbers are taken as their text and null as absent: only these are wrong.
      row[f.pick(['description', 'resolution'])] = f.pick([{}, ['d'], true]);
      break;
    case 3:
      row[f.pick(['status', 'priority', 'product', 'channel'])] = f.pick(['x'.repeat(201), '\ud800'.repeat(201), {}, [], false]);
      break;
    case 4:
      if (f.bool(0.3)) row[f.pick(['extra', 'tags', '\u0000'])] = f.pick([{ a: 1 }, [1], { a: null }]);
      else row.metadata = f.pick(['m', [], 5, null, { a: { b: 1 } }, { a: [1] }, { '': 1 }, { '\u0000': 1 }, { ['k'.repeat(201)]: 1 }]);
      break;
    default:
      return f.pick([null, 1, 'row', [], [row]]);
  }
  return row;
}

/** CSV files whose every data row is invalid (a NUL byte travels as itself here: CSV has no escapes). */
function invalidCsv(route: BulkRoute, f: Fuzz): string {
  const records = route === '/v1/records';
  const [header, lines] = f.pick<[string, string[]]>(
    records
      ? [
          [
            'id,title,body',
            [
              ',T,b',
              '"   ",T,b',
              'r-1,T,',
              'r-1,T,"   "',
              'r-1,T',
              'r-1,T,b,extra',
              `r-1,${'t'.repeat(1001)},b`,
              '\u0000,T,b',
              'r-1,T,\u0000',
              'r-1,T,"\u0000 "',
            ],
          ],
          ['id,title', ['r-1,T', 'r-2,']],
          ['title,body', ['T,b', ',b']],
        ]
      : [
          [
            'externalId,subject,description,status',
            [
              ',S,d,open',
              '"  ",S,d,open',
              'c-1,,d,open',
              'c-1,"   ",d,open',
              'c-1,S,d',
              'c-1,S,d,open,x',
              `c-1,${'s'.repeat(1001)},d,open`,
              `c-1,S,d,${'x'.repeat(201)}`,
              '\u0000,S,d,open',
              'c-1,\u0000,d,open',
            ],
          ],
          ['externalId,description', ['c-1,d', 'c-2,']],
          ['description,status', ['d,open', ',']],
        ],
  );
  return `${header}\n${Array.from({ length: f.int(1, 4) }, () => f.pick(lines)).join(f.pick(['\n', '\r\n']))}\n`;
}

/** A multipart/form-data body; `close: false` leaves out the final boundary (a cut-off upload). */
function multipart(boundary: string, parts: { name: string; filename?: string; type?: string; content: string }[], close = true): Buffer {
  const text = parts
    .map(
      (p) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n${p.content}\r\n`,
    )
    .join('');
  return Buffer.from(close ? `${text}--${boundary}--\r\n` : text);
}

const gzipBombs = new Map<BulkRoute, Buffer>();
/** A few hundred bytes that decode to several times the bulk cap. */
function gzipBomb(route: BulkRoute): Buffer {
  let bomb = gzipBombs.get(route);
  if (!bomb) {
    bomb = gzipSync(JSON.stringify([{ ...VALID_ROW[route], description: 'x'.repeat(RECORDS_MAX_BYTES * 4), body: 'x'.repeat(RECORDS_MAX_BYTES * 4) }]));
    gzipBombs.set(route, bomb);
  }
  return bomb;
}

/** A bulk body `route` must refuse as a whole: 400, 413 or 415, with nothing stored. */
export function invalidBulkBody(route: BulkRoute, f: Fuzz): BodySpec {
  const records = route === '/v1/records';
  const rows = (n: number) => Array.from({ length: n }, () => (records ? invalidRecordRow(f) : invalidCaseRow(f)));
  switch (f.pick(['rows', 'rows', 'whole', 'query', 'media', 'size', 'multipart'] as const)) {
    case 'rows': {
      // Every row invalid: 400 invalid_rows with the per-row report.
      const many = f.bool(0.05) ? Array.from({ length: f.int(1001, 1400) }, () => (records ? { id: '', body: 'b' } : { subject: '' })) : rows(f.int(1, 4));
      const format = f.pick(['json', 'ndjson', 'csv', 'upload', 'deep'] as const);
      if (format === 'deep') {
        // A column nested thousands deep (metadata must be flat): written by hand, as JSON.stringify would overflow.
        const depth = f.int(1000, 14_000);
        const line = `{${JSON.stringify(VALID_ROW[route]).slice(1, -1)},"extra":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}`;
        return { body: Buffer.from(`${line}\n${line.replace('1', '2')}`), contentType: 'application/x-ndjson' };
      }
      if (format === 'json') return { body: Buffer.from(JSON.stringify(many)), contentType: 'application/json' };
      if (format === 'ndjson') {
        const lines = many.map((r) => (f.bool(0.1) ? f.pick(['{"id":', 'not json', '[1,2]', '"row"']) : JSON.stringify(r)));
        return {
          body: Buffer.from(lines.join(f.pick(['\n', '\r\n', '\n\n']))),
          contentType: f.pick(['application/x-ndjson', 'application/jsonl', 'application/x-ndjson; charset=utf-8']),
        };
      }
      if (format === 'csv') return { body: Buffer.from(invalidCsv(route, f)), contentType: f.pick(['text/csv', 'text/csv; charset=utf-8', 'application/csv']) };
      const csv = f.bool();
      const content = csv ? invalidCsv(route, f) : many.map((r) => JSON.stringify(r)).join('\n');
      const filename = csv ? 'rows.csv' : 'rows.ndjson';
      return {
        body: multipart('fuzzb', [
          { name: 'note', content: 'x' },
          { name: 'file', filename, type: f.pick(['application/octet-stream', csv ? 'text/csv' : 'application/x-ndjson']), content },
        ]),
        contentType: 'multipart/form-data; boundary=fuzzb',
      };
    }
    case 'whole': {
      const header = records ? 'id,title,body' : 'externalId,subject,description';
      const [contentType, text] = f.pick<[string, string]>([
        ['application/json', '['],
        ['application/json', records ? '[{"id":' : '[{"externalId":'],
        ['application/json', '{"rows": []}'],
        ['application/json', '"rows"'],
        ['application/json', 'null'],
        ['application/json', '[]'],
        ['application/json', ''],
        ['application/json', `${'['.repeat(3000)}${']'.repeat(3000)}`],
        ['application/x-ndjson', ''],
        ['application/x-ndjson', '\n \n\r\n'],
        ['text/csv', ''],
        ['text/csv', `${header}\n`],
        ['text/csv', `${header}\n"${Object.values(VALID_ROW[route]).join(',')}\n`],
        ['text/csv', `${header.split(',')[0]},${header}\na,${Object.values(VALID_ROW[route]).join(',')}\n`],
        ['text/csv', `${header.replace(',', ',,')}\na,b,c,d\n`],
      ]);
      return { body: Buffer.from(text), contentType };
    }
    case 'query': {
      // A valid body: the query string alone is wrong (checked before the body is read).
      const query = f.pick(
        records
          ? [
              'knowledgeBase=UPPER',
              'knowledgeBase=',
              'knowledgeBase=%00',
              'source=..%2Fetc',
              'source=',
              `source=${'s'.repeat(101)}`,
              'source=%00',
              'rowOffset=-1',
              'rowOffset=x',
              'rowOffset=1e10',
              'rowOffset=1.5',
              'idColumn=',
              'idColumn=%20%20',
              `titleColumn=${'c'.repeat(201)}`,
              'idPrefix=',
              `idPrefix=${'p'.repeat(101)}`,
              'colour=red',
              'knowledgeBase=a&knowledgeBase=b',
              'rowOffset=1&rowOffset=2',
              'resolutionColumn=x',
              'sync=fuzz-sync-1',
              'mode=incremental&sync=fuzz-sync-1',
              'mode=full&sync=bad%20id',
              'mode=full&sync=%00%00%00%00%00%00%00%00',
              `mode=full&sync=${'y'.repeat(129)}`,
              'mode=full&sync=fuzz-sync-1&sync=fuzz-sync-2',
              'mode=full&final=true',
              'final=false',
              'mode=full&sync=fuzz-sync-1&final=maybe',
            ]
          : [
              'knowledgeBase=UPPER',
              'knowledgeBase=',
              'knowledgeBase=%00',
              'rowOffset=-1',
              'rowOffset=x',
              'resolutionColumn=',
              `statusColumn=${'c'.repeat(201)}`,
              'idPrefix=',
              'source=records',
              'colour=red',
              'knowledgeBase=a&knowledgeBase=b',
            ],
      );
      const [contentType, text] = f.pick<[string, string]>([
        ['text/csv', validCsv(route)],
        ['application/x-ndjson', validNdjson(route)],
        ['application/json', JSON.stringify([VALID_ROW[route]])],
      ]);
      return { body: Buffer.from(text), contentType, query };
    }
    case 'media': {
      // A valid CSV or NDJSON body under a wrong type, charset or encoding. Never a valid JSON
      // document: express.json parses any type it is given on a path that does not stream.
      const csv = f.bool();
      const text = csv ? validCsv(route) : validNdjson(route);
      const kind = f.int(0, 2);
      if (kind === 0)
        return {
          body: Buffer.from(text),
          contentType: f.pick(
            csv
              ? ['application/json', 'application/x-ndjson', 'text/plain', 'application/xml']
              : ['application/json', 'text/csv', 'text/plain', 'application/x-www-form-urlencoded'],
          ),
        };
      if (kind === 1)
        return {
          body: Buffer.from(text),
          contentType: `${csv ? 'text/csv' : 'application/x-ndjson'}; charset=${f.pick(['latin1', 'utf-16', 'nope', 'iso-8859-1'])}`,
        };
      return {
        body: Buffer.from(text),
        contentType: csv ? 'text/csv' : 'application/x-ndjson',
        contentEncoding: f.pick(['gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip']),
      };
    }
    case 'size': {
      // Over the bulk cap: by Content-Length, by streaming without one, or once decompressed: 413.
      const kind = f.int(0, 2);
      if (kind === 2) return { body: gzipBomb(route), contentType: records || f.bool() ? 'application/json' : 'application/x-ndjson', contentEncoding: 'gzip' };
      const big = JSON.stringify([{ ...VALID_ROW[route], description: 'd', body: 'x'.repeat(RECORDS_MAX_BYTES + f.int(1, 20_000)) }]);
      return { body: Buffer.from(big), contentType: records ? 'application/json' : 'application/x-ndjson', chunked: kind === 1 };
    }
    case 'multipart': {
      const kind = f.int(0, 3);
      if (kind === 0)
        return { body: multipart('fuzzb', [{ name: 'file', filename: 'rows.csv', content: validCsv(route) }]), contentType: 'multipart/form-data' };
      if (kind === 1)
        return {
          body: multipart('fuzzb', [
            { name: 'note', content: validCsv(route) },
            { name: 'upload', filename: 'rows.csv', content: validCsv(route) },
          ]),
          contentType: 'multipart/form-data; boundary=fuzzb',
        };
      if (kind === 2)
        return {
          body: multipart('fuzzb', [
            { name: 'file', filename: f.pick(['rows.txt', 'rows', 'rows.xlsx']), type: f.pick(['text/plain', 'application/pdf']), content: validCsv(route) },
          ]),
          contentType: 'multipart/form-data; boundary=fuzzb',
        };
      // Cut off before the closing boundary: inside the file (rows were read, but the body is not
      // whole), or inside the only part, which is not the file (its stream fails unread). Never
      // after a whole file part: when the form's end is seen is then a matter of timing.
      const attachment = { name: 'attachment', filename: f.pick(['notes.csv', 'notes.txt']), content: 'a,b\n1,2' };
      const [filename, content] = f.pick<[string, string]>([
        ['rows.csv', validCsv(route)],
        ['rows.ndjson', validNdjson(route)],
        ['rows.json', JSON.stringify([VALID_ROW[route]])],
      ]);
      const parts = f.bool(0.3) ? [attachment] : [...(f.bool(0.3) ? [attachment] : []), { name: 'file', filename, content }];
      return { body: multipart('fuzzb', parts, false), contentType: 'multipart/form-data; boundary=fuzzb' };
    }
  }
}
