// Object bodies for the fuzz test: for every POST route, a valid body (for
// requests whose defect is elsewhere) and a body it must refuse: bad JSON,
// not an object, too deep, too big, an unknown field or a wrong value. Bulk
// bodies (records, cases sent as many) are in fuzz-bodies.ts.
import { invalidBulkBody, type BodySpec } from './fuzz-bodies.ts';
import type { Fuzz } from './fuzz.ts';

/** The fuzz API's cap on a JSON body (KBFLOW_MAX_BODY_BYTES). */
export const MAX_BODY = 16 * 1024;

export const POST_ROUTES = [
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

/** Marks a required field to leave out of an object body. */
const MISSING = Symbol('missing');

/** Wrong values for the fields of `POST /v1/cases` with one object (after NUL removal still wrong). */
const CASE_WRONG: Record<string, unknown[]> = {
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
const KNOWLEDGE_WRONG: Record<string, unknown[]> = {
  title: [MISSING, '', '   ', 't'.repeat(201), 5, null, ['t'], {}],
  summary: [MISSING, '', '  \n', 's'.repeat(2001), 5, null, {}],
  symptoms: ['a', [''], ['   '], [5], [null], Array.from({ length: 51 }, () => 's'), ['x'.repeat(1001)], null, {}],
  resolutionSteps: ['a', [''], [' '], [{}], Array.from({ length: 51 }, () => 'r'), ['x'.repeat(1001)], null],
  body: ['', '   ', 5, null, ['b'], {}],
  category: ['Other', '', 'a b', '-x', 5, null, '\u0000', 'X\u0000', 'c'.repeat(64), '\ud800'],
};

/** Text fields of a valid case or article object that may carry NUL bytes and lone surrogates as noise. */
const NOISE_FIELDS: Record<'/v1/cases' | '/v1/knowledge', string[]> = {
  '/v1/cases': ['subject', 'description', 'resolution', 'product'],
  '/v1/knowledge': ['title', 'summary', 'body'],
};

/** A valid body for a POST route (used where another part of the request is the defect). */
export function validBody(route: PostRoute, f: Fuzz): object {
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
export function invalidBody(route: PostRoute, f: Fuzz): Buffer | BodySpec {
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
