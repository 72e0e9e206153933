// Generators for the fuzz test's requests to the record, case, knowledge,
// search-analytics and schedule routes. Every request here is wrong as a
// whole: a bulk body (JSON array, NDJSON, CSV, upload) whose every row is
// invalid, or that cannot be read at all, or a valid one with a bad query
// string, content type, encoding or size. A bulk body with some valid rows
// is a legitimate 202 with per-row errors, so none is ever generated here.
import { gzipSync } from 'node:zlib';
import { SCHEDULE_NAMES } from '@kbflow/queues';
import type { Fuzz } from './fuzz.ts';
import { ADMIN_KEY, DEV_KEY } from './test-api.ts';

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

/** Marks a required field to leave out of an object body. */
export const MISSING = Symbol('missing');

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

/** Wrong values for the fields of `POST /v1/cases` with one object (after NUL removal still wrong). */
export const CASE_WRONG: Record<string, unknown[]> = {
  externalId: ['', '   ', '\u0000', ' \u0000 ', 'e'.repeat(257), 12, null, {}, ['e'], true],
  subject: [MISSING, '', '   ', '\u0000', '\u0000 \u0000', 's'.repeat(1001), 5, null, ['s'], {}],
  description: [5, null, {}, ['d'], true],
  resolution: [5, null, {}, ['d'], true],
  status: ['x'.repeat(201), '\ud800'.repeat(201), 5, null, {}, [], false],
  priority: ['x'.repeat(201), 1, null, {}],
  product: ['\u0000'.repeat(2) + 'p'.repeat(201), 1, null, []],
  channel: ['x'.repeat(201), true, null],
  metadata: [
    'm',
    [],
    5,
    null,
    { a: { b: 1 } },
    { a: [1] },
    { '': 1 },
    { '\u0000': 1 },
    { ['k'.repeat(201)]: 1 },
    Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i])),
  ],
};

/** Wrong values for the fields of `POST /v1/knowledge`. */
export const KNOWLEDGE_WRONG: Record<string, unknown[]> = {
  title: [MISSING, '', '   ', 't'.repeat(201), 5, null, ['t'], {}],
  summary: [MISSING, '', '  \n', 's'.repeat(2001), 5, null, {}],
  symptoms: ['a', [''], ['   '], [5], [null], Array.from({ length: 51 }, () => 's'), ['x'.repeat(1001)], null, {}],
  resolutionSteps: ['a', [''], [' '], [{}], Array.from({ length: 51 }, () => 'r'), ['x'.repeat(1001)], null],
  body: ['', '   ', 5, null, ['b'], {}],
  category: ['Other', '', 'a b', '-x', 5, null, '\u0000', 'X\u0000', 'c'.repeat(64), '\ud800'],
};

/** Text fields of a valid case or article object that may carry NUL bytes and lone surrogates as noise. */
export const NOISE_FIELDS: Record<'/v1/cases' | '/v1/knowledge', string[]> = {
  '/v1/cases': ['subject', 'description', 'resolution', 'product'],
  '/v1/knowledge': ['title', 'summary', 'body'],
};

/**
 * Unknown or malformed ids on the new routes: 404 (400 for a malformed
 * article id or an invalid PATCH body, 403 for a schedule without the admin
 * key). Schedule names are never real ones with the admin key: that would run them.
 */
export function newRouteIdRequest(f: Fuzz, id: string, admin: boolean): { method: string; path: string; body?: object } {
  const casePatch = () => f.pick<object>([{ description: 'new text' }, { status: 'closed', metadata: { a: 1 } }, {}, { subject: '' }, { version: 2 }]);
  const articlePatch = () => f.pick<object>([{ summary: 'new summary' }, { symptoms: ['s'] }, {}, { title: '' }, { status: 'retired' }]);
  const schedule = admin
    ? f.pick(['nope', 'HEALTH-CHECK', 'health-check%20', 'health-check%00', 'case_sync', '%00', 'x'.repeat(f.int(1, 3000)), '..', 'health-check%2Ftrigger'])
    : f.pick([...SCHEDULE_NAMES, 'nope']);
  return f.pick([
    { method: 'GET', path: `/v1/cases/${id}` },
    { method: 'PATCH', path: `/v1/cases/${id}`, body: casePatch() },
    { method: 'DELETE', path: `/v1/cases/${id}` },
    { method: 'GET', path: `/v1/knowledge/${id}` },
    { method: 'PATCH', path: `/v1/knowledge/${id}`, body: articlePatch() },
    { method: 'DELETE', path: `/v1/knowledge/${id}` },
    {
      method: 'DELETE',
      path: `/v1/records/${id}${f.pick(['', '', '?source=tickets', '?knowledgeBase=default', '?source=..%2F', '?knowledgeBase=UPPER', '?idColumn=x'])}`,
    },
    { method: 'POST', path: `/v1/schedules/${schedule}/trigger` },
    { method: 'GET', path: `/v1/schedules/${schedule}/runs` },
    // Tenant management: no tenant or key has these ids (404), or a tenant key asks (403).
    { method: 'GET', path: `/v1/admin/tenants/${id}` },
    {
      method: 'PATCH',
      path: `/v1/admin/tenants/${id}`,
      body: f.pick<object>([{ tier: 'enterprise' }, { limits: null }, { limits: { maxApiCallsPerHour: 5 } }]),
    },
    { method: 'DELETE', path: `/v1/admin/tenants/${id}` },
    { method: 'GET', path: `/v1/admin/tenants/${id}/purge` },
    { method: 'GET', path: `/v1/admin/tenants/${id}/keys` },
    { method: 'POST', path: `/v1/admin/tenants/${id}/keys`, body: { name: 'k', scopes: f.pick([['read'], ['read', 'write'], ['admin']]) } },
    { method: 'DELETE', path: `/v1/admin/tenants/${id}/keys/${id}` },
    { method: 'POST', path: `/v1/tasks/${id}/cancel` },
    { method: 'GET', path: `/v1/sources/${id}` },
    { method: 'PATCH', path: `/v1/sources/${id}`, body: f.pick<object>([{ maxPages: 5 }, { schedule: { every: '1h' } }, {}, { url: 'ftp://x' }]) },
    { method: 'DELETE', path: `/v1/sources/${id}${f.pick(['', '?purge=true', '?purge=yes'])}` },
    { method: 'POST', path: `/v1/sources/${id}/runs` },
    { method: 'GET', path: `/v1/sources/${id}/runs` },
  ]);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Listing parameters of the new GET routes that are out of range, of the
 * wrong type, unknown, or name a knowledge base that does not exist: 400/404
 * (403 for the schedules without the admin key). Returns the path and key.
 */
export function newListQuery(f: Fuzz): { path: string; key: string } {
  const key = f.pick([DEV_KEY, ADMIN_KEY]);
  switch (f.int(0, 6)) {
    case 5:
      return {
        key,
        path: `/v1/tasks?${f.pick([
          `limit=${f.pick(['0', '101', 'abc', '1.5', '-1', '', '1&limit=2'])}`,
          `state=${f.pick(['done', 'RUNNING', '', '%00', 'queued&state=failed'])}`,
          `type=${f.pick(['index', 'CRAWL', '', '%00'])}`,
          `source=${f.pick(['x', '', '%00', '00000000-0000-4000-8000'])}`,
          `since=${f.pick(['yesterday', '2026-01-01', '2026-13-01T00:00:00Z', '%00'])}`,
          `after=${f.pick(['garbage', '', '00000000-0000-4000-8000-000000000000'])}`,
          `${f.pick(['sort', 'tenant', 'state[]'])}=1`,
        ])}`,
      };
    case 6:
      return {
        key,
        path: `/v1/sources?${f.pick([
          `limit=${f.pick(['0', '101', 'abc', '1.5', '-1', ''])}`,
          `after=${f.pick(['garbage', '', '%00'])}`,
          `${f.pick(['sort', 'type', 'limit[]'])}=1`,
        ])}`,
      };
    case 0:
      return {
        key,
        path: `/v1/cases?${f.pick([
          `limit=${f.pick(['0', '201', 'abc', '1.5', '-1', '', '1&limit=2'])}`,
          'status=',
          `status=${f.pick(['x'.repeat(201), '%00', '%00%00'])}`,
          `category=${f.pick(['%00', ''])}`,
          `category=${'c'.repeat(41)}`,
          `pending=${f.pick(['yes', '1', 'TRUE', ''])}`,
          `cursor=${f.pick(['garbage', '', 'c'.repeat(201), b64(['2026-01-01T00:00:00Z', 'not-a-uuid']), b64(['yesterday', '00000000-0000-4000-8000-000000000000']), b64({ a: 1 }), '%00'])}`,
          `knowledgeBase=${f.pick(['UPPER', '', '%00', '..'])}`,
          `${f.pick(['sort', 'colour', '__proto__', 'status[]'])}=${f.int(0, 9)}`,
        ])}`,
      };
    case 1:
      return {
        key,
        path: `/v1/knowledge?${f.pick([
          `status=${f.pick(['deleted', 'ACTIVE', '', '%00'])}`,
          `limit=${f.pick(['0', '101', 'x', '-1'])}`,
          `offset=${f.pick(['-1', '1000001', '0.5', 'x'])}`,
          `category=${f.pick(['UPPER', '%00', 'a%20b', ''])}`,
          `knowledgeBase=${f.pick(['no-such-kb', 'UPPER', '%00'])}`,
          `${f.pick(['q', 'sort', 'id'])}=1`,
        ])}`,
      };
    case 2: {
      const param = f.pick([
        `since=${f.pick(['yesterday', '2026-01-01', '2026-01-01T00:00:00', '2026-13-01T00:00:00Z', '0000-01-01T00:00:00%2B01:00', '%00'])}`,
        `until=${f.pick(['tomorrow', '2026-02-30T00:00:00Z', '2026-01-01T25:00:00Z', '9999-12-31T23:59:59-12:00', ''])}`,
        'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
        'since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z',
        'since=2999-01-01T00:00:00Z',
        `knowledgeBase=${f.pick(['no-such-kb', 'UPPER', '%00', ''])}`,
        `${f.pick(['limit', 'tenant', 'since[]'])}=1`,
      ]);
      return { key, path: `/v1/search/analytics?${param}` };
    }
    case 3:
      // Operator routes: without the admin key 403, whatever the parameters.
      return { key: DEV_KEY, path: f.pick(['/v1/schedules', `/v1/schedules/${f.pick(SCHEDULE_NAMES)}/runs`, '/v1/schedules?limit=5']) };
    default:
      return {
        key: ADMIN_KEY,
        path: `/v1/schedules/${f.pick(SCHEDULE_NAMES)}/runs?${f.pick(['limit=0', 'limit=501', 'limit=x', 'limit=', 'colour=1', 'limit=1&limit=2'])}`,
      };
  }
}
