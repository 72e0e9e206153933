// Throws malformed and random requests at every endpoint of the real API
// (in-process, over the real Redis and PostgreSQL). Every request is built to
// be wrong in at least one way, so every answer must be a 4xx with the JSON
// error shape: never a 5xx, never a crash, and never a row or a job left
// behind. The PRNG is seeded; a failure names the seed that reproduces it:
//   KBFLOW_FUZZ_SEED=<seed> jest services/api/test/fuzz.int.test.ts
import { request, Agent } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Fuzz } from './support/fuzz.ts';
import {
  CASE_WRONG,
  invalidBulkBody,
  KNOWLEDGE_WRONG,
  MISSING,
  newListQuery,
  newRouteIdRequest,
  NOISE_FIELDS,
  RECORDS_MAX_BYTES,
  type BodySpec,
} from './support/fuzz-bodies.ts';
import { ADMIN_KEY, DEV_KEY, startTestApi, type TestApi } from './support/test-api.ts';

const SEED = Number(process.env.KBFLOW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
const REQUESTS = Number(process.env.KBFLOW_FUZZ_REQUESTS ?? 3000);
const PARALLEL = 8;
const MAX_BODY = 16 * 1024;
/** Longer than any answer takes even on a busy machine (queries wait at most 2 s here). */
const ANSWER_TIMEOUT_MS = 20_000;

interface FuzzRequest {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent without Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

interface FuzzResponse {
  status: number;
  contentType: string;
  body: string;
}

const POST_ROUTES = [
  '/v1/crawl',
  '/v1/scrape',
  '/v1/scrape/batch',
  '/v1/query',
  '/v1/search',
  '/v1/embed',
  '/v1/records',
  '/v1/cases',
  '/v1/knowledge',
  '/v1/sources',
  '/v1/admin/tenants',
] as const;
type PostRoute = (typeof POST_ROUTES)[number];
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const KNOWN_PATHS: Record<string, string[]> = {
  '/v1/crawl': ['POST'],
  '/v1/scrape': ['POST'],
  '/v1/scrape/batch': ['POST'],
  '/v1/query': ['POST'],
  '/v1/search': ['POST'],
  '/v1/embed': ['POST'],
  '/v1/queues': ['GET', 'HEAD'],
  '/v1/stats': ['GET', 'HEAD'],
  '/v1/workers': ['GET', 'HEAD'],
  '/v1/dead-letters': ['GET', 'HEAD'],
  [`/v1/tasks/${UNKNOWN_ID}`]: ['GET', 'HEAD'],
  '/v1/records': ['POST'],
  '/v1/records/r-1': ['DELETE'],
  '/v1/cases': ['GET', 'HEAD', 'POST'],
  [`/v1/cases/${UNKNOWN_ID}`]: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  '/v1/knowledge': ['GET', 'HEAD', 'POST'],
  [`/v1/knowledge/${UNKNOWN_ID}`]: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  '/v1/search/analytics': ['GET', 'HEAD'],
  '/v1/schedules': ['GET', 'HEAD'],
  '/v1/schedules/health-check/trigger': ['POST'],
  '/v1/schedules/health-check/runs': ['GET', 'HEAD'],
  '/v1/admin/tenants': ['GET', 'HEAD', 'POST'],
  [`/v1/admin/tenants/${UNKNOWN_ID}`]: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  [`/v1/admin/tenants/${UNKNOWN_ID}/purge`]: ['GET', 'HEAD'],
  [`/v1/admin/tenants/${UNKNOWN_ID}/keys`]: ['GET', 'HEAD', 'POST'],
  [`/v1/admin/tenants/${UNKNOWN_ID}/keys/${UNKNOWN_ID}`]: ['DELETE'],
  '/v1/tasks': ['GET', 'HEAD'],
  [`/v1/tasks/${UNKNOWN_ID}/cancel`]: ['POST'],
  '/v1/sources': ['GET', 'HEAD', 'POST'],
  [`/v1/sources/${UNKNOWN_ID}`]: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  [`/v1/sources/${UNKNOWN_ID}/runs`]: ['GET', 'HEAD', 'POST'],
  [`/v1/sources/${UNKNOWN_ID}/webhook-deliveries`]: ['GET', 'HEAD'],
  [`/v1/tasks/${UNKNOWN_ID}/webhook-deliveries`]: ['GET', 'HEAD'],
};
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE'];
const TRAVERSALS = [
  '/v1/../admin/queues',
  '/v1/%2e%2e/%2e%2e/etc/passwd',
  '/v1/tasks/..%2f..%2fetc%2fpasswd',
  '/v1/tasks/../../healthz',
  '//v1//crawl',
  '/v1/./crawl/..',
  '/v1/crawl/..%2f',
  '/v1/tasks/%00',
  '/v1/tasks/%E0%A4%A',
  '/v1/tasks/%',
  '/v1/dead-letters/%2F..%2F..%2F/replay',
  '/v1/dead-letters/..',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/admin/queues/../../v1/crawl',
  '/v1\\crawl',
  '/v1/%F0%9F%98%80',
  '/v1/\u00e9t\u00e9',
];

/** Requests that are wrong in at least one way; `category` names the way. */
function generate(f: Fuzz): FuzzRequest {
  const headers: Record<string, string> = {};
  // Noise that must never matter.
  if (f.bool(0.3)) headers.accept = f.pick(['text/html', '*/*', 'application/xml', f.text(30, 'latin1')]);
  if (f.bool(0.2)) headers['x-forwarded-for'] = f.pick(['1.2.3.4', 'garbage', f.text(40, 'latin1'), '::1, 10.0.0.1']);
  if (f.bool(0.2)) headers['user-agent'] = f.text(100, 'latin1');
  if (f.bool(0.1)) headers.cookie = f.text(60, 'ascii');

  const body = (): Buffer | undefined => {
    if (f.bool(0.2)) return undefined;
    if (f.bool(0.15)) return Buffer.from(f.text(200, 'unicode'));
    return Buffer.from(JSON.stringify(f.json()) ?? 'null');
  };
  const contentType = () => {
    if (f.bool(0.6)) headers['content-type'] = 'application/json';
    else if (f.bool(0.5))
      headers['content-type'] = f.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json; charset=nope',
        '',
        f.text(30, 'latin1'),
      ]);
    if (f.bool(0.05)) headers['content-encoding'] = f.pick(['gzip', 'deflate', 'br', 'x-unknown', 'identity']);
  };
  const idempotencyKey = () => {
    if (f.bool(0.5)) headers['idempotency-key'] = f.bool(0.6) ? `fuzz-${f.int(0, 5)}` : f.text(60, 'ascii') || 'k';
  };

  const category = f.pick(['auth', 'route', 'body', 'idempotency-key', 'ids', 'list-query'] as const);
  switch (category) {
    case 'auth': {
      // No key or a wrong one, on any /v1 or Bull Board path: 401 (or an earlier 400/413/415 for the body).
      const missing = f.bool(0.3);
      if (!missing) {
        headers.authorization = f.pick([
          'Bearer',
          'Bearer ',
          `Bearer ${f.text(40, 'latin1')}x`,
          `Basic ${Buffer.from(f.text(20, 'latin1')).toString('base64')}`,
          `Basic ${f.text(30, 'latin1')}`,
          `Token ${DEV_KEY}`,
          `${DEV_KEY}`,
          `Bearer ${DEV_KEY}x`,
          `Bearer ${DEV_KEY.toUpperCase()}`,
          f.text(60, 'latin1'),
        ]);
      }
      const path = f.pick([
        ...Object.keys(KNOWN_PATHS),
        ...TRAVERSALS.filter((p) => p.startsWith('/v1') || p.startsWith('/admin')),
        '/v1/dead-letters/x/replay',
        '/admin/queues',
        '/admin/queues/api/queues',
        `/v1/${f.text(20, 'ascii').replace(/[^A-Za-z0-9._~-]/g, '')}`,
      ]);
      contentType();
      idempotencyKey();
      return { category, method: f.pick(METHODS), path, headers, body: body() };
    }
    case 'route': {
      // A valid key on a route that does not exist, or a method a route does not take: 404.
      headers.authorization = `Bearer ${f.pick([DEV_KEY, ADMIN_KEY])}`;
      let method: string;
      let path: string;
      if (f.bool(0.5)) {
        path = f.pick(Object.keys(KNOWN_PATHS));
        method = f.pick(METHODS.filter((m) => !KNOWN_PATHS[path]!.includes(m) && m !== 'OPTIONS'));
      } else {
        method = f.pick(METHODS);
        const segments = Array.from({ length: f.int(1, 4) }, () => `_${f.text(12, 'ascii').replace(/[^A-Za-z0-9%._~-]/g, '')}`);
        path = f.pick(['/v1/', '/', '/v2/', '/admin/']) + segments.join('/');
        if (f.bool(0.3)) {
          // Some of these still match a route with a parameter (`/v1/tasks/..%2f..`), where
          // OPTIONS is answered 200 by Express with the route's methods: legitimate, not a defect.
          path = f.pick(TRAVERSALS.filter((p) => !p.startsWith('/admin')));
          if (method === 'OPTIONS') method = 'PUT';
        }
        if (f.bool(0.05)) path = `/v1/${'a'.repeat(f.int(2000, 6000))}`;
      }
      if (f.bool(0.3)) path += `?${f.text(30, 'ascii').replace(/[# ]/g, '')}`;
      contentType();
      idempotencyKey();
      return { category, method, path, headers, body: body() };
    }
    case 'body':
    case 'idempotency-key': {
      headers.authorization = `Bearer ${f.pick([DEV_KEY, ADMIN_KEY])}`;
      const route = f.pick(POST_ROUTES);
      const path = f.pick([route, `${route}/`, route.toUpperCase(), `${route}?x=${f.int(0, 9)}`]);
      contentType();
      if (category === 'idempotency-key') {
        // A valid body, but a key that breaks the rules: 400 naming Idempotency-Key, nothing run.
        headers['content-type'] = 'application/json';
        delete headers['content-encoding'];
        headers['idempotency-key'] = f.pick([
          '',
          'k'.repeat(f.int(201, 3000)),
          `${f.text(10, 'ascii')}\u00e9`,
          `a\tb`,
          `${f.text(5, 'ascii')}\u00ff${f.text(5, 'ascii')}`,
        ]);
        return { category, method: 'POST', path, headers, body: Buffer.from(JSON.stringify(validBody(route, f))) };
      }
      idempotencyKey();
      const spec = invalidBody(route, f);
      if (Buffer.isBuffer(spec)) return { category, method: 'POST', path, headers, body: spec };
      // A bulk body names its own type and encoding: a random one could turn it into another, valid request.
      delete headers['content-type'];
      delete headers['content-encoding'];
      if (spec.contentType !== undefined) headers['content-type'] = spec.contentType;
      if (spec.contentEncoding !== undefined) headers['content-encoding'] = spec.contentEncoding;
      const query = spec.query === undefined ? '' : `${path.includes('?') ? '&' : '?'}${spec.query}`;
      return { category, method: 'POST', path: `${path}${query}`, headers, body: spec.body, chunked: spec.chunked };
    }
    case 'ids': {
      // Unknown or malformed task, dead-letter, case, article, record and schedule ids: 404
      // (400 for a malformed article id or PATCH body, 403 for operator routes without the admin key).
      const admin = f.bool();
      headers.authorization = `Bearer ${admin ? ADMIN_KEY : DEV_KEY}`;
      const id = f.pick([
        '00000000-0000-4000-8000-000000000000',
        crypto.randomUUID(),
        f.text(40, 'ascii').replace(/[^A-Za-z0-9%._~-]/g, '') || 'x',
        'x'.repeat(f.int(1, 5000)),
        '%E2%80%AE',
        '..%2F..',
        'null',
        '-1',
        '%00',
        'a%00b',
      ]);
      if (f.bool(0.6)) {
        const r = newRouteIdRequest(f, id, admin);
        if (r.body === undefined) return { category, method: r.method, path: r.path, headers, body: f.bool(0.3) ? body() : undefined };
        headers['content-type'] = 'application/json';
        return { category, method: r.method, path: r.path, headers, body: Buffer.from(JSON.stringify(r.body)) };
      }
      const [method, path] = f.pick([
        ['GET', `/v1/tasks/${id}`],
        ['DELETE', `/v1/dead-letters/${id}`],
        ['POST', `/v1/dead-letters/${id}/replay`],
      ] as const);
      contentType();
      idempotencyKey();
      return { category, method, path, headers, body: f.bool(0.5) ? body() : undefined };
    }
    case 'list-query': {
      // Listing parameters that are out of range, of the wrong type or unknown: 400 (403 without the admin key,
      // 404 for a knowledge base that does not exist).
      if (f.bool(0.6)) {
        const { path, key } = newListQuery(f);
        headers.authorization = `Bearer ${key}`;
        return { category, method: f.pick(['GET', 'GET', 'HEAD']), path, headers };
      }
      headers.authorization = `Bearer ${f.pick([ADMIN_KEY, ADMIN_KEY, DEV_KEY])}`;
      const param = f.pick([
        `limit=${f.pick(['0', '-5', '501', 'abc', '1.5', '1e9', '', '%00', '1&limit=2'])}`,
        `offset=${f.pick(['-1', 'x', '1000001', '0.5', '%FF'])}`,
        `queue=${f.pick(['dead-letter', 'nope', '', 'SCRAPE', '%00', 'scrape&queue=embed'])}`,
        `${f.pick(['colour', 'sort', '__proto__', 'queue[]', 'limit[a]'])}=${f.int(0, 9)}`,
      ]);
      return { category, method: 'GET', path: `/v1/dead-letters?${param}`, headers };
    }
  }
}

/** A valid body for a POST route (used where another part of the request is the defect). */
function validBody(route: PostRoute, f: Fuzz): object {
  switch (route) {
    case '/v1/crawl':
      return { url: `http://example.com/${f.int(0, 99)}`, maxPages: f.int(1, 50) };
    case '/v1/scrape':
      return { url: 'http://example.com/page' };
    case '/v1/scrape/batch':
      return { urls: ['http://example.com/a', 'http://example.com/b'] };
    case '/v1/query':
    case '/v1/search':
      return { query: 'how do I read a file?' };
    case '/v1/embed':
      return { texts: ['one'] };
    case '/v1/records':
      return [{ id: `r-${f.int(0, 99)}`, title: 'Reset a password', body: 'Open the account page.' }];
    case '/v1/cases':
      return { externalId: `c-${f.int(0, 99)}`, subject: 'Login fails', description: 'Since the update.' };
    case '/v1/knowledge':
      return { title: 'Reset a password', summary: 'Open the account page.', symptoms: ['cannot log in'] };
    case '/v1/admin/tenants':
      return { name: `fuzz-${f.int(0, 99)}`, tier: 'starter', limits: { maxApiCallsPerHour: 100 } };
    case '/v1/sources':
      return { type: 'site', url: `http://example.com/${f.int(0, 99)}`, schedule: f.pick([{ every: '6h' }, { cron: '0 */6 * * *', tz: 'Europe/Paris' }]) };
  }
}

/**
 * A body each route must refuse: bad JSON, not an object, a wrong value, an unknown field, or too big.
 * Bulk bodies (records, and cases sent as many) come with their own content type: see fuzz-bodies.ts.
 */
function invalidBody(route: PostRoute, f: Fuzz): Buffer | BodySpec {
  if (route === '/v1/records' || (route === '/v1/cases' && f.bool())) return invalidBulkBody(route, f);
  const kind = f.int(0, 7);
  if (kind === 0)
    return Buffer.from(
      f.pick(['{', '{"url": ', "{'url': 'x'}", '{"url": "http://a.b",}', 'NaN', 'undefined', '\u0000', '{"a":1}{"b":2}', `${f.text(50, 'unicode')}`]) + '',
    );
  // An array of one valid case is a valid bulk request: nest it once more.
  if (kind === 1)
    return Buffer.from(JSON.stringify(f.pick([null, 1, 'string', true, [], route === '/v1/cases' ? [[validBody(route, f)]] : [validBody(route, f)]])));
  if (kind === 2) {
    const depth = f.int(500, 7000);
    return Buffer.from(f.bool() ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `{"url":${'{"a":'.repeat(depth / 5)}1${'}'.repeat(depth / 5)}}`);
  }
  if (kind === 3) {
    // Over KBFLOW_MAX_BODY_BYTES: 413.
    return Buffer.from(JSON.stringify({ ...validBody(route, f), pad: 'x'.repeat(MAX_BODY + f.int(1, 20_000)) }));
  }
  const body: Record<string, unknown> = { ...validBody(route, f) };
  if (kind === 4) {
    // An unknown field (the schemas are strict), spliced into the text: assigning
    // `__proto__` on an object would set its prototype, not add a field.
    const name = f.pick(['colour', '__proto__', 'constructor', 'URL', 'Url', f.text(10, 'unicode') || 'zz']);
    return Buffer.from(`{${JSON.stringify(name)}:${JSON.stringify(f.json()) ?? 'null'},${JSON.stringify(body).slice(1)}`);
  }
  // A wrong value for a field the route knows.
  const wrong: Record<string, unknown[]> = {
    url: [
      12,
      null,
      {},
      [],
      '',
      'ftp://example.com/',
      'javascript:alert(1)',
      'http://',
      `http://example.com/${'x'.repeat(2100)}`,
      'example.com',
      f.text(20, 'unicode') || '\u0000',
    ],
    urls: [[], 'http://example.com/', [1], [null], Array.from({ length: 1001 }, (_, i) => `http://e.com/${i}`), ['http://example.com/', 'mailto:x@y.z']],
    maxPages: [0, -1, 100_001, 1.5, '10', null],
    maxDepth: [-1, 101, 'deep', 0.5],
    engine: ['curl', '', 1, null, 'HTTP'],
    knowledgeBase: ['UPPER', '../etc', '', '-lead', 'a'.repeat(64), '\u00e9', 7],
    query: ['', '   ', 5, null, 'q'.repeat(4001), ['q']],
    topK: [0, -3, 101, '5', 2.5, null],
    mode: ['fuzzy', '', 1],
    contentTypes: [[], ['video'], 'page', [1], null, ['page', 'record', 'case', 'article', 'page']],
    sources: [[], ['   '], 'docs.example', [1], Array.from({ length: 51 }, (_, i) => `s${i}`), ['x'.repeat(513)]],
    since: ['yesterday', '2026-01-01', '2026-01-01T00:00:00', 1, null, '2026-13-01T00:00:00Z', '9999-12-31T23:59:59-12:00'],
    until: ['tomorrow', '2026-02-30T00:00:00Z', 0, null, '2026-01-01T25:00:00Z', '0000-01-01T00:00:00+01:00'],
    collapseDuplicates: ['true', 1, null],
    diversity: [-0.1, 1.01, '0.5', null],
    texts: [[], [''], [1], 'text', Array.from({ length: 129 }, () => 't'), ['x'.repeat(32_001)]],
    name: [MISSING, '', 'UPPER', 'with space', '-lead', 'a'.repeat(101), 5, null, '\u00e9t\u00e9'],
    tier: ['gold', '', 'STARTER', 1, null, ['starter']],
    limits: [
      'many',
      [],
      7,
      { maxApiCallsPerHour: -1 },
      { maxConcurrentProcessing: 1.5 },
      { maxDocumentsPerKnowledgeBase: '10' },
      { maxWidgets: 1 },
      { maxVectorOperationsPerMinute: 1e12 },
    ],
    type: ['feed', '', null, 1, 'SITE', MISSING],
    schedule: [
      MISSING,
      null,
      '6h',
      {},
      { every: '' },
      { every: 'often' },
      { every: '1s' },
      { every: 5 },
      { every: '6h', cron: '0 * * * *' },
      { cron: '* * * * * *' },
      { cron: '*/10 * * * * *' },
      { cron: 'not a cron' },
      { cron: '0 * * * *', tz: 'Mars/Olympus' },
      { cron: '0 0 31 2 * * *' },
      { cron: '0 * * * *', extra: 1 },
    ],
    includePaths: ['^/docs', ['(a'], ['(?=x)'], ['(a)\\1'], [''], ['x'.repeat(513)], Array.from({ length: 51 }, (_, i) => `^/p${i}`), [1]],
    excludePaths: [['[z-a]'], ['*'], [null], 'x'],
    respectRobots: ['yes', 1, null],
    sitemaps: ['always', '', 1],
    politeness: ['slow', { maxConcurrency: 0 }, { minDelayMs: -1 }, { maxConcurrency: 1.5 }, { burst: 3 }, null],
    deleteUnreached: ['true', 0, null],
    // Each refused: no secret, not an object, null, a non-http URL, a short
    // secret, an unknown event, no event, a private address, an unknown key.
    webhook: [
      { url: 'http://example.com/hook' },
      'http://example.com/hook',
      null,
      { url: 'ftp://example.com/hook', secret: 's'.repeat(16) },
      { url: 'http://example.com/hook', secret: 'short' },
      { url: 'http://example.com/hook', secret: 's'.repeat(16), events: ['run.exploded'] },
      { url: 'http://example.com/hook', secret: 's'.repeat(16), events: [] },
      { url: 'http://127.0.0.1:9/hook', secret: 's'.repeat(16) },
      { url: 'http://169.254.169.254/', secret: 's'.repeat(16) },
      { url: 'http://[::1]/', secret: 's'.repeat(16) },
      { url: 'http://example.com/hook', secret: 's'.repeat(16), retries: 3 },
      { url: 'http://example.com/hook', secret: 's'.repeat(257) },
    ],
  };
  const fields: Record<Exclude<PostRoute, '/v1/records'>, string[]> = {
    '/v1/crawl': ['url', 'maxPages', 'maxDepth', 'engine', 'knowledgeBase', 'webhook'],
    '/v1/scrape': ['url', 'engine', 'knowledgeBase'],
    '/v1/scrape/batch': ['urls', 'engine', 'knowledgeBase'],
    '/v1/query': ['query', 'topK', 'mode', 'knowledgeBase', 'contentTypes', 'sources', 'since', 'until', 'collapseDuplicates', 'diversity'],
    '/v1/search': ['query', 'topK', 'mode', 'knowledgeBase', 'contentTypes', 'sources', 'since', 'until', 'collapseDuplicates', 'diversity'],
    '/v1/embed': ['texts'],
    '/v1/cases': [...Object.keys(CASE_WRONG), 'knowledgeBase'],
    '/v1/knowledge': [...Object.keys(KNOWLEDGE_WRONG), 'knowledgeBase'],
    '/v1/admin/tenants': ['name', 'tier', 'limits'],
    '/v1/sources': [
      'type',
      'url',
      'schedule',
      'includePaths',
      'excludePaths',
      'maxPages',
      'maxDepth',
      'engine',
      'knowledgeBase',
      'respectRobots',
      'sitemaps',
      'politeness',
      'deleteUnreached',
      'webhook',
    ],
  };
  const table = route === '/v1/cases' ? CASE_WRONG : route === '/v1/knowledge' ? KNOWLEDGE_WRONG : wrong;
  if ((route === '/v1/cases' || route === '/v1/knowledge') && f.bool(0.4)) {
    // NUL bytes and lone surrogates in another text field: they are cleaned, not the defect.
    body[f.pick(NOISE_FIELDS[route])] = f.unstorable();
  }
  const field = f.pick(fields[route]);
  const value = f.pick((table[field] ?? wrong[field])!);
  if (value === MISSING) delete body[field];
  else body[field] = value;
  return Buffer.from(JSON.stringify(body));
}

const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });

/** One raw HTTP request: node:http, so paths go out exactly as written (no URL normalization). */
function send(base: URL, req: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body && !req.chunked) headers['content-length'] = req.body.length;
    const r = request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    // A request left unanswered is a defect of its own; it must not stall the whole run.
    r.setTimeout(ANSWER_TIMEOUT_MS, () => r.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    if (req.chunked && req.body) r.write(req.body);
    r.end(req.chunked ? undefined : req.body);
  });
}

/** What is wrong with a response, or undefined when it is a proper 4xx JSON error. */
function problem(req: FuzzRequest, res: FuzzResponse): string | undefined {
  if (res.status < 400 || res.status > 499) return `status ${res.status}`;
  if (!/^application\/json/.test(res.contentType)) return `content-type ${res.contentType}`;
  if (req.method === 'HEAD') return undefined;
  try {
    const error = (JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') return `body ${res.body.slice(0, 200)}`;
  } catch {
    return `not JSON: ${res.body.slice(0, 200)}`;
  }
  return undefined;
}

const describeRequest = (r: FuzzRequest) =>
  `${r.category}: ${r.method} ${r.path.slice(0, 120)} headers=${JSON.stringify(r.headers).slice(0, 300)} body=${r.body?.toString('utf8').slice(0, 200) ?? '(none)'}`;

let api: TestApi;
let lanceDir: string;
let vectors: LanceDbVectorStore;

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-fuzz-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  // With a vector store, so the tenant admin routes are mounted and fuzzed too.
  api = await startTestApi({ label: 'fuzz', maxBodyBytes: MAX_BODY, recordsMaxBytes: RECORDS_MAX_BYTES, queryTimeoutMs: 2000, vectors });
  // The tenants' default knowledge bases exist, so lookups by record id, case status and the like reach PostgreSQL.
  for (const name of ['dev', 'admin']) {
    const tenant = await api.db.tenant.findUniqueOrThrow({ where: { name } });
    await api.tenants.knowledgeBaseId(tenant.id, 'default');
  }
});

afterAll(async () => {
  agent.destroy();
  await api.close();
  await vectors.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('fuzzing the API', () => {
  it(`answers ${REQUESTS} malformed requests (seed ${SEED}) with 4xx JSON errors only, and writes and enqueues nothing`, async () => {
    const counts = async () => {
      // No search is ever answered here, so none may be logged: write out what the log buffers first.
      await api.searchLogs.writer.flush();
      return {
        tasks: await api.db.task.count(),
        taskPages: await api.db.taskPage.count(),
        knowledgeBases: await api.db.knowledgeBase.count(),
        idempotencyKeys: await api.db.idempotencyKey.count(),
        // Pages, records, cases and articles alike.
        documents: await api.db.document.count(),
        chunks: await api.db.chunk.count(),
        cases: await api.db.case.count(),
        caseSyncLog: await api.db.caseSyncLog.count(),
        knowledgeArticles: await api.db.knowledgeArticle.count(),
        knowledgeArticleCases: await api.db.knowledgeArticleCase.count(),
        scheduleRuns: await api.db.scheduleRun.count(),
        sources: await api.db.source.count(),
        searchLogs: await api.db.searchLog.count(),
        tenants: await api.db.tenant.count(),
        apiKeys: await api.db.apiKey.count(),
        tenantPurges: await api.db.tenantPurge.count(),
        jobs: await api.jobTotal(),
      };
    };
    const before = await counts();
    const f = new Fuzz(SEED);
    const requests = Array.from({ length: REQUESTS }, () => generate(f));
    const base = new URL(api.base);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < requests.length; i += PARALLEL) {
      const batch = requests.slice(i, i + PARALLEL);
      const responses = await Promise.all(
        batch.map((r) => send(base, r).catch((e: Error) => ({ status: 0, contentType: '', body: `transport error: ${e.message}` }))),
      );
      responses.forEach((res, j) => {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const wrong = problem(batch[j]!, res);
        if (wrong) problems.push(`#${i + j} ${wrong} <- ${describeRequest(batch[j]!)}`);
      });
    }
    expect({ seed: SEED, problems: problems.slice(0, 15), total: problems.length }).toEqual({ seed: SEED, problems: [], total: 0 });
    // Every category of defect was exercised, and answered with more than one kind of 4xx.
    expect(new Set(requests.map((r) => r.category)).size).toBe(6);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(5);

    expect((await api.send('GET', '/readyz', { key: null })).status).toBe(200);
    expect(await counts()).toEqual(before);
  }, 300_000);

  // Found by the fuzzer; rare in its mix, so kept here for every run. busboy fails the open
  // part's stream when a form is cut off: unheard, that error was uncaught (it ends the API
  // process, which has no handler for it, and here the request never got an answer); heard
  // but unclassified, it was a 500.
  it('answers an upload cut off inside any part with a 400, stores nothing and keeps serving', async () => {
    const part = (name: string, filename: string, content: string) =>
      `--cut\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n\r\n${content}\r\n`;
    const forms = [
      part('file', 'rows.csv', 'id,externalId,subject,body\nr-1,c-1,Login fails,Since the update.'),
      part('file', 'rows.ndjson', '{"id":"r-1","externalId":"c-1","subject":"Login fails","body":"b"}'),
      part('attachment', 'notes.csv', 'a,b\n1,2'),
    ];
    const before = { documents: await api.db.document.count(), cases: await api.db.case.count() };
    for (const path of ['/v1/records', '/v1/cases']) {
      for (const form of forms) {
        const res = await api.send('POST', path, { body: form, headers: { 'content-type': 'multipart/form-data; boundary=cut' } });
        expect({ path, form, status: res.status, code: res.json?.error?.code }).toEqual({ path, form, status: 400, code: 'invalid_multipart' });
      }
    }
    expect({ documents: await api.db.document.count(), cases: await api.db.case.count() }).toEqual(before);
    expect((await api.send('GET', '/readyz', { key: null })).status).toBe(200);
  });

  // Found by the fuzzer: zlib's error reached the row readers unclassified, a 500.
  it('answers a bulk body that its Content-Encoding cannot decode with a 400 naming the encoding', async () => {
    const bodies = [
      ['text/csv', 'externalId,id,subject,body\nc-1,r-1,Login fails,b\n'],
      ['application/x-ndjson', '{"externalId":"c-1","id":"r-1","subject":"s","body":"b"}\n{"externalId":"c-2","id":"r-2","subject":"s","body":"b"}\n'],
    ];
    for (const path of ['/v1/records', '/v1/cases']) {
      for (const [type, body] of bodies) {
        for (const encoding of ['gzip', 'deflate']) {
          const res = await api.send('POST', path, { body, headers: { 'content-type': type!, 'content-encoding': encoding } });
          const { code, field } = res.json?.error ?? {};
          expect({ path, type, encoding, status: res.status, code, field }).toEqual({
            path,
            type,
            encoding,
            status: 400,
            code: 'invalid_encoding',
            field: 'Content-Encoding',
          });
        }
      }
    }
  });
});
