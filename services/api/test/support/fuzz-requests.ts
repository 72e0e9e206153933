// The fuzz test's request generator: requests that are wrong in at least one
// way, by category (auth, route, body, idempotency key, ids, list query),
// with random header noise that must never matter. Bodies come from
// fuzz-object-bodies.ts and fuzz-bodies.ts.
import { SCHEDULE_NAMES } from '@kbflow/queues';
import { invalidBody, POST_ROUTES, validBody } from './fuzz-object-bodies.ts';
import type { Fuzz } from './fuzz.ts';
import { ADMIN_KEY, DEV_KEY } from './test-api.ts';

/** One request to send, raw; `category` names what is wrong with it. */
export interface FuzzRequest {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent without Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

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
export function generate(f: Fuzz): FuzzRequest {
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

/**
 * Unknown or malformed ids on the new routes: 404 (400 for a malformed
 * article id or an invalid PATCH body, 403 for a schedule without the admin
 * key). Schedule names are never real ones with the admin key: that would run them.
 */
function newRouteIdRequest(f: Fuzz, id: string, admin: boolean): { method: string; path: string; body?: object } {
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
function newListQuery(f: Fuzz): { path: string; key: string } {
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
