// Filters on /v1/search and /v1/query never leak results from another
// tenant or knowledge base, collapse and diversity do what they say, and
// every answered request lands in the search log behind /v1/search/analytics.
// The API in-process, the real aggregator query processor on a real queue,
// documents stored through the real DocumentRepository and embedded by the
// real embed processor into a real LanceDB directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import { createWorker, QueueName, type JobContext } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Worker } from 'bullmq';
import { Gauge, Registry } from 'prom-client';
import { answerQuery, searchChunks } from '../../aggregator/src/processors/query.processor.ts';
import { QueryEmbeddingCache } from '../../aggregator/src/query-embedding-cache.ts';
import { embedChunks } from '../../embedder/src/processors/embed-chunks.processor.ts';
import { healthCheck } from '../../maintenance/src/processors/health-check.processor.ts';
import { OTHER_KEY, startTestApi, type TestApi } from './support/test-api.ts';

const TYPES = ['page', 'record', 'case', 'article'] as const;
const SOURCES = ['alpha.example', 'beta.example', 'gamma.example'] as const;
const DATES = ['2025-01-15T10:00:00.000Z', '2025-06-15T10:00:00.000Z', '2026-01-15T10:00:00.000Z'] as const;
const MODES = ['hybrid', 'vector', 'keyword'] as const;
const COLORS = ['red', 'green', 'blue', 'amber', 'violet', 'silver'];

interface Doc {
  documentId: string;
  url: string;
  tenantId: string;
  knowledgeBaseId: string;
  contentType: string;
  source: string;
  updatedAt: string;
}

let api: TestApi;
let lanceDir: string;
let lance: LanceDbVectorStore;
let worker: Worker;
let documents: DocumentRepository;
const embedder = new HashingEmbedder();
const cacheRegistry = new Registry();
const docs = new Map<string, Doc>();
const byUrl = new Map<string, Doc>();
const scopes: Record<string, { tenantId: string; knowledgeBaseId: string; key: string; slug: string }> = {};
const ANALYTICS_KEY = 'analytics-key-123';
const log = createLogger('search-filters-test', 'silent');
const ctx = { job: { timestamp: Date.now(), processedOn: Date.now() }, log, correlationId: 'index' } as unknown as JobContext;

/** Stores one document of one chunk and embeds it through the embed processor; `updatedAt` set afterwards. */
async function index(
  scope: { tenantId: string; knowledgeBaseId: string },
  d: { url: string; text: string; contentType: (typeof TYPES)[number]; source: string; updatedAt: string },
): Promise<Doc> {
  const stored = await documents.store({
    ...scope,
    url: d.url,
    title: d.url,
    markdown: d.text,
    contentHash: `h:${d.url}:${d.text}`,
    contentType: d.contentType,
    source: d.source,
    chunks: [{ position: 0, heading: '', text: d.text, hash: `text:${d.text}` }],
  });
  await embedChunks({ tenantId: scope.tenantId, documentId: stored.documentId, chunkIds: stored.pendingChunkIds }, ctx, {
    documents,
    embedder,
    vectors: lance,
    ready: async () => undefined,
  });
  await api.db.$executeRaw`UPDATE documents SET updated_at = (${d.updatedAt}::timestamptz AT TIME ZONE 'UTC') WHERE id = ${stored.documentId}::uuid`;
  const doc = { documentId: stored.documentId, url: d.url, ...scope, contentType: d.contentType, source: d.source, updatedAt: d.updatedAt };
  docs.set(doc.documentId, doc);
  byUrl.set(doc.url, doc);
  return doc;
}

/** Every (type, source, date) once in a knowledge base: 36 documents, all about resetting a router password, none alike enough to collapse. */
async function indexGrid(name: string): Promise<void> {
  const scope = scopes[name]!;
  let n = 0;
  for (const contentType of TYPES) {
    for (const source of SOURCES) {
      for (const updatedAt of DATES) {
        n++;
        const text =
          `To reset the router password on ${contentType} unit ${name} ${n}, hold the ${COLORS[n % COLORS.length]} reset button for ${n + 4} seconds. ` +
          `The ${source} model ${n * 7} then restarts, and you sign in with the factory password printed under serial ${n * 131}.`;
        await index(scope, { url: `https://${source}/${name}/${contentType}/${n}`, text, contentType, source, updatedAt });
      }
    }
  }
}

beforeAll(async () => {
  api = await startTestApi({ label: 'search-filters', queryTimeoutMs: 30_000 });
  documents = new DocumentRepository(api.db);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-search-filters-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  await lance.ensureCollection(embedder.dimensions);
  const queryDeps = { documents, vectors: lance, embedder: new QueryEmbeddingCache(embedder, { maxEntries: 100, registry: cacheRegistry }), chat: undefined };
  worker = createWorker({
    queue: QueueName.query,
    handlers: {
      'answer-query': (data, c) => answerQuery(data, c, queryDeps),
      'search-chunks': (data, c) => searchChunks(data, c, queryDeps),
    },
    connection: api.redis,
    producer: api.producer,
    log,
    registry: new Registry(),
    concurrency: 2,
  });

  const dev = await api.tenants.ensureTenantWithKey('dev', 'test-dev-key', { tier: 'enterprise' });
  // Every tenant here asks hundreds of questions a minute: enterprise, so the
  // tier limits (tenant-limits.int.test.ts) never answer for the filters.
  const other = await api.tenants.ensureTenantWithKey('other', OTHER_KEY);
  const analytics = await api.tenants.ensureTenantWithKey('analytics', ANALYTICS_KEY);
  // (the test API may have made `other` already, as starter: set the tier explicitly)
  for (const id of [other, analytics]) await api.tenants.updateTenant(id, { tier: 'enterprise' });
  for (const [name, tenantId, key, slug] of [
    ['dev-default', dev, 'test-dev-key', 'default'],
    ['dev-second', dev, 'test-dev-key', 'second'],
    ['other-default', other, OTHER_KEY, 'default'],
    ['other-second', other, OTHER_KEY, 'second'],
    ['dev-dupes', dev, 'test-dev-key', 'dupes'],
    ['dev-diverse', dev, 'test-dev-key', 'diverse'],
    ['analytics-a', analytics, ANALYTICS_KEY, 'kb-a'],
    ['analytics-b', analytics, ANALYTICS_KEY, 'kb-b'],
  ] as const) {
    scopes[name] = { tenantId, key, slug, knowledgeBaseId: await api.tenants.knowledgeBaseId(tenantId, slug) };
  }
  for (const name of ['dev-default', 'dev-second', 'other-default', 'other-second']) await indexGrid(name);
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await lance?.close();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
});

interface Filters {
  contentTypes?: string[];
  sources?: string[];
  since?: string;
  until?: string;
}

const TYPE_FILTERS: (string[] | undefined)[] = [undefined, ['page'], ['record', 'case']];
const SOURCE_FILTERS: (string[] | undefined)[] = [undefined, ['alpha.example'], ['alpha.example', 'beta.example']];
const DATE_FILTERS: { since?: string; until?: string }[] = [
  {},
  { since: '2025-06-01T00:00:00Z' },
  { since: '2025-03-01T00:00:00+02:00', until: '2025-12-31T00:00:00Z' },
];
const COMBINATIONS: Filters[] = TYPE_FILTERS.flatMap((contentTypes) =>
  SOURCE_FILTERS.flatMap((sources) => DATE_FILTERS.map((dates) => ({ ...(contentTypes ? { contentTypes } : {}), ...(sources ? { sources } : {}), ...dates }))),
);

function matches(doc: Doc, scope: { tenantId: string; knowledgeBaseId: string }, f: Filters): boolean {
  if (doc.tenantId !== scope.tenantId || doc.knowledgeBaseId !== scope.knowledgeBaseId) return false;
  if (f.contentTypes && !f.contentTypes.includes(doc.contentType)) return false;
  if (f.sources && !f.sources.includes(doc.source)) return false;
  if (f.since && Date.parse(doc.updatedAt) < Date.parse(f.since)) return false;
  if (f.until && Date.parse(doc.updatedAt) >= Date.parse(f.until)) return false;
  return true;
}

describe('search and query filters', () => {
  it('never return a document of another tenant, knowledge base, type, source or date, and find every one that matches', async () => {
    const query = 'how do I reset the router password';
    let checked = 0;
    for (const name of ['dev-second', 'other-default']) {
      const scope = scopes[name]!;
      for (const filters of COMBINATIONS) {
        const expected = [...docs.values()].filter((d) => matches(d, scope, filters)).map((d) => d.documentId);
        expect(expected.length).toBeGreaterThan(0);
        for (const mode of MODES) {
          const label = `${name} ${mode} ${JSON.stringify(filters)}`;
          const search = await api.send('POST', '/v1/search', { key: scope.key, body: { query, topK: 100, mode, knowledgeBase: scope.slug, ...filters } });
          expect({ label, status: search.status }).toEqual({ label, status: 200 });
          const results = search.json.results as { documentId: string; contentType: string; source: string; updatedAt: string }[];
          for (const r of results) {
            const doc = docs.get(r.documentId);
            expect({ label, leaked: doc ? !matches(doc, scope, filters) : true }).toEqual({ label, leaked: false });
            expect({ contentType: r.contentType, source: r.source, updatedAt: r.updatedAt }).toEqual({
              contentType: doc!.contentType,
              source: doc!.source,
              updatedAt: doc!.updatedAt,
            });
          }
          expect({ label, found: new Set(results.map((r) => r.documentId)) }).toEqual({ label, found: new Set(expected) });

          const answer = await api.send('POST', '/v1/query', { key: scope.key, body: { query, topK: 50, mode, knowledgeBase: scope.slug, ...filters } });
          expect({ label, status: answer.status }).toEqual({ label, status: 200 });
          const cited = (answer.json.citations as { url: string }[]).map((c) => byUrl.get(c.url));
          expect({ label, leaked: cited.filter((d) => !d || !matches(d, scope, filters)).length }).toEqual({ label, leaked: 0 });
          expect({ label, found: new Set(cited.map((d) => d!.documentId)) }).toEqual({ label, found: new Set(expected) });
          checked++;
        }
      }
    }
    expect(checked).toBe(2 * COMBINATIONS.length * MODES.length);
  }, 600_000);

  it('a repeated question is answered from the query-embedding cache', async () => {
    const hits = async () => (await cacheRegistry.getSingleMetric('kbflow_query_embedding_cache_hits_total')!.get()).values.reduce((s, v) => s + v.value, 0);
    const before = await hits();
    const body = { query: 'a question asked twice about the router', mode: 'vector', knowledgeBase: 'second' };
    const first = await api.send('POST', '/v1/search', { body });
    const second = await api.send('POST', '/v1/search', { body: { ...body, query: `  ${body.query}\t` } });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await hits()).toBe(before + 1);
    expect(second.json.results.map((r: { chunkId: string }) => r.chunkId)).toEqual(first.json.results.map((r: { chunkId: string }) => r.chunkId));
  });

  it('refuses bad filters with a 400 naming the field, and an unknown knowledge base with a 404', async () => {
    const cases: [object, string][] = [
      [{ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'until'],
      [{ since: '2026-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'until'],
      [{ since: '2026-01-01' }, 'since'],
      [{ until: 'yesterday' }, 'until'],
      [{ since: '9999-12-31T23:59:59-12:00' }, 'since'],
      [{ contentTypes: ['page', 'video'] }, 'contentTypes.1'],
      [{ contentTypes: [] }, 'contentTypes'],
      [{ sources: [''] }, 'sources.0'],
      [{ diversity: 1.5 }, 'diversity'],
      [{ collapseDuplicates: 'yes' }, 'collapseDuplicates'],
      [{ mode: 'semantic' }, 'mode'],
      [{ filters: { sources: ['a'] } }, 'filters'],
    ];
    for (const [extra, field] of cases) {
      for (const path of ['/v1/search', '/v1/query']) {
        const res = await api.send('POST', path, { body: { query: 'router', ...extra } });
        expect({ path, extra, status: res.status, field: res.json?.error?.field }).toEqual({ path, extra, status: 400, field });
      }
    }
    const missing = await api.send('POST', '/v1/search', { body: { query: 'router', knowledgeBase: 'nope' } });
    expect([missing.status, missing.json.error.field]).toEqual([404, 'knowledgeBase']);
  });
});

describe('near-duplicates and diversity', () => {
  it('collapses the same passage under two URLs, and a near-identical one, unless asked not to', async () => {
    const scope = scopes['dev-dupes']!;
    const words = Array.from({ length: 150 }, (_, i) => `term${i}`).join(' ');
    const passage = `Rotating the signing keys of the cluster: ${words}.`;
    const base = { contentType: 'page' as const, source: 'mirror.example', updatedAt: DATES[2] };
    await index(scope, { ...base, url: 'https://docs.example/keys', text: passage });
    await index(scope, { ...base, url: 'https://mirror.example/keys', text: passage });
    await index(scope, { ...base, url: 'https://old.example/keys', text: passage.replace('term70', 'changed70') });
    await index(scope, {
      ...base,
      url: 'https://docs.example/other',
      text: 'Rotating the signing keys is also covered by the audit checklist for the cluster.',
    });

    for (const mode of MODES) {
      const body = { query: 'rotating the signing keys of the cluster', topK: 10, mode, knowledgeBase: 'dupes' };
      const collapsed = await api.send('POST', '/v1/search', { body });
      const urls = (collapsed.json.results as { url: string }[]).map((r) => r.url);
      expect({ mode, urls: urls.filter((u) => u.endsWith('/keys')).length, other: urls.includes('https://docs.example/other') }).toEqual({
        mode,
        urls: 1,
        other: true,
      });
      const all = await api.send('POST', '/v1/search', { body: { ...body, collapseDuplicates: false } });
      expect({ mode, urls: (all.json.results as { url: string }[]).filter((r) => r.url.endsWith('/keys')).length }).toEqual({ mode, urls: 3 });

      const answer = await api.send('POST', '/v1/query', { body: { ...body, topK: 5 } });
      expect({ mode, cited: (answer.json.citations as { url: string }[]).filter((c) => c.url.endsWith('/keys')).length }).toEqual({ mode, cited: 1 });
    }
  });

  it('diversity moves a passage on another aspect above near-repeats of the best one', async () => {
    const scope = scopes['dev-diverse']!;
    const base = { contentType: 'page' as const, source: 'docs.example', updatedAt: DATES[2] };
    const repeats = [
      'Configure the backup schedule for the database: set the backup schedule with the cron expression in the backup settings page.',
      'The backup schedule for the database is set with a cron expression on the backup settings page of the console.',
      'On the backup settings page, the database backup schedule takes a cron expression; set the schedule there.',
      'Set a cron expression as the database backup schedule on the backup settings page, then save the schedule.',
    ];
    for (const [i, text] of repeats.entries()) await index(scope, { ...base, url: `https://docs.example/backup-${i}`, text });
    await index(scope, {
      ...base,
      url: 'https://docs.example/restore',
      text: 'Restoring a database from a backup file: upload the archive and choose restore.',
    });

    const body = { query: 'database backup schedule cron settings', topK: 5, mode: 'keyword', knowledgeBase: 'diverse' };
    const plain = (await api.send('POST', '/v1/search', { body })).json.results.map((r: { url: string }) => r.url);
    const diverse = (await api.send('POST', '/v1/search', { body: { ...body, diversity: 0.8 } })).json.results.map((r: { url: string }) => r.url);
    expect(new Set(diverse)).toEqual(new Set(plain));
    expect(plain.indexOf('https://docs.example/restore')).toBe(4);
    expect(diverse[0]).toBe(plain[0]);
    expect(diverse.indexOf('https://docs.example/restore')).toBe(1);
  });
});

describe('search analytics', () => {
  it('logs every answered search and query and summarises them per tenant and knowledge base', async () => {
    const a = scopes['analytics-a']!;
    const b = scopes['analytics-b']!;
    await index(a, {
      url: 'https://kb-a.example/vpn',
      text: 'Connecting to the VPN: install the client and sign in with your badge number.',
      contentType: 'article',
      source: 'knowledge',
      updatedAt: DATES[2],
    });
    await index(b, {
      url: 'https://kb-b.example/printer',
      text: 'The printer on floor two needs a driver from the print server.',
      contentType: 'case',
      source: 'cases',
      updatedAt: DATES[2],
    });
    await api.searchLogs.writer.flush();
    const from = new Date(Date.now() - 1000).toISOString();

    // [path, knowledge base, body]: 9 requests, 3 of them without a hit (keyword mode, no matching word).
    const requests: [string, string, object][] = [
      ['/v1/search', 'kb-a', { query: 'VPN client', mode: 'keyword' }],
      ['/v1/search', 'kb-a', { query: '  vpn   CLIENT ', mode: 'hybrid' }],
      ['/v1/query', 'kb-a', { query: 'vpn client', mode: 'vector', contentTypes: ['article'] }],
      ['/v1/search', 'kb-a', { query: 'zebra giraffe', mode: 'keyword' }],
      ['/v1/query', 'kb-a', { query: 'Zebra giraffe', mode: 'keyword' }],
      ['/v1/search', 'kb-b', { query: 'printer driver', mode: 'hybrid', sources: ['cases'] }],
      ['/v1/search', 'kb-b', { query: 'printer driver', mode: 'keyword' }],
      ['/v1/query', 'kb-b', { query: 'printer floor', mode: 'hybrid' }],
      ['/v1/search', 'kb-b', { query: 'quantum flux', mode: 'keyword' }],
    ];
    const answered: { hits: number; topScore: number | null }[] = [];
    for (const [path, kb, body] of requests) {
      const res = await api.send('POST', path, { key: ANALYTICS_KEY, body: { ...body, knowledgeBase: kb } });
      expect(res.status).toBe(200);
      const scores = ((res.json.results ?? res.json.citations) as { score: number }[]).map((r) => r.score);
      answered.push({ hits: scores.length, topScore: scores.length > 0 ? Math.max(...scores) : null });
    }
    // A refused request is not an answered one: not logged.
    expect((await api.send('POST', '/v1/search', { key: ANALYTICS_KEY, body: { query: 'x', knowledgeBase: 'kb-a', diversity: 3 } })).status).toBe(400);
    await api.searchLogs.writer.flush();

    const rows = await api.db.searchLog.findMany({ where: { tenantId: a.tenantId }, orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(requests.length);
    expect(rows.map((r) => [r.kind, r.query, r.mode, r.knowledgeBaseId])).toEqual(
      requests.map(([p, kb, body]) => [
        p.endsWith('search') ? 'search' : 'query',
        (body as { query: string }).query.trim(),
        (body as { mode: string }).mode,
        kb === 'kb-a' ? a.knowledgeBaseId : b.knowledgeBaseId,
      ]),
    );
    expect(rows.map((r) => [r.hits, r.topScore])).toEqual(answered.map((x) => [x.hits, x.topScore]));
    expect(rows[2]!.filters).toEqual({ contentTypes: ['article'], collapseDuplicates: true, diversity: 0 });
    expect(rows.every((r) => r.latencyMs > 0 && r.degraded === null)).toBe(true);
    expect(answered.filter((x) => x.hits === 0)).toHaveLength(3);

    const until = new Date(Date.now() + 1000).toISOString();
    const res = await api.send('GET', `/v1/search/analytics?since=${encodeURIComponent(from)}&until=${encodeURIComponent(until)}`, { key: ANALYTICS_KEY });
    expect(res.status).toBe(200);
    const s = res.json;
    expect(s.total).toBe(9);
    expect(s.byKind).toEqual({ search: 6, query: 3 });
    expect(s.byMode).toEqual({ keyword: 5, hybrid: 3, vector: 1 });
    expect(s.zeroHitRate).toBeCloseTo(3 / 9, 10);
    const scored = answered.filter((x) => x.topScore !== null).map((x) => x.topScore!);
    expect(s.meanTopScore).toBeCloseTo(scored.reduce((x, y) => x + y, 0) / scored.length, 6);
    expect(s.topQueries.slice(0, 3)).toEqual([
      { query: 'vpn client', count: 3 },
      { query: 'printer driver', count: 2 },
      { query: 'zebra giraffe', count: 2 },
    ]);
    expect(s.topZeroHitQueries).toEqual([
      { query: 'zebra giraffe', count: 2 },
      { query: 'quantum flux', count: 1 },
    ]);
    const latencies = rows.map((r) => r.latencyMs).sort((x, y) => x - y);
    const percentile = (p: number) => {
      const rank = p * (latencies.length - 1);
      const lo = Math.floor(rank);
      return latencies[lo]! + (latencies[Math.ceil(rank)]! - latencies[lo]!) * (rank - lo);
    };
    expect(s.latencyMs.p50).toBeCloseTo(percentile(0.5), 6);
    expect(s.latencyMs.p95).toBeCloseTo(percentile(0.95), 6);
    expect(s.latencyMs.p99).toBeCloseTo(percentile(0.99), 6);
    expect(s.perHour.reduce((n: number, h: { count: number }) => n + h.count, 0)).toBe(9);
    expect(s.perHour.every((h: { hour: string }) => h.hour.endsWith(':00:00.000Z'))).toBe(true);

    const onlyB = await api.send('GET', `/v1/search/analytics?knowledgeBase=kb-b&since=${encodeURIComponent(from)}`, { key: ANALYTICS_KEY });
    expect([onlyB.json.total, onlyB.json.byKind, onlyB.json.zeroHitRate]).toEqual([4, { search: 3, query: 1 }, 0.25]);

    // Tenant-scoped: another tenant sees none of these.
    const other = await api.send('GET', `/v1/search/analytics?since=${encodeURIComponent(from)}`, { key: OTHER_KEY });
    expect(other.json.topQueries.map((q: { query: string }) => q.query)).not.toContain('vpn client');

    for (const [qs, field, status] of [
      ['since=yesterday', 'since', 400],
      [`since=${encodeURIComponent(until)}&until=${encodeURIComponent(from)}`, 'until', 400],
      ['since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00Z', 'since', 400],
      ['knowledgeBase=Nope!', 'knowledgeBase', 400],
      ['knowledgeBase=nope', 'knowledgeBase', 404],
      ['limit=5', 'limit', 400],
    ] as const) {
      const bad = await api.send('GET', `/v1/search/analytics?${qs}`, { key: ANALYTICS_KEY });
      expect({ qs, status: bad.status, field: bad.json.error.field }).toEqual({ qs, status, field });
    }
  });

  it('the scheduled health check deletes the logs past retention, and only those', async () => {
    const tenantId = scopes['analytics-a']!.tenantId;
    const knowledgeBaseId = scopes['analytics-a']!.knowledgeBaseId;
    const entry = {
      tenantId,
      knowledgeBaseId,
      kind: 'search' as const,
      query: 'old',
      mode: 'keyword',
      filters: {},
      latencyMs: 1,
      hits: 0,
      topScore: null,
      degraded: null,
    };
    await api.searchLogs.repository.insertMany([
      { ...entry, createdAt: new Date(Date.now() - 40 * 86_400_000) },
      { ...entry, createdAt: new Date(Date.now() - 20 * 86_400_000) },
    ]);
    const before = await api.db.searchLog.count();
    const registry = new Registry();
    const gauge = new Gauge({ name: 'kbflow_dependency_up', help: 'test', labelNames: ['dependency'], registers: [registry] });
    const report = await healthCheck(ctx, {
      checks: [],
      producer: api.producer,
      gauge,
      searchLogRetention: { searchLogs: api.searchLogs.repository, days: 30 },
    });
    expect(report.searchLogsDeleted).toBe(1);
    expect(await api.db.searchLog.count()).toBe(before - 1);
    expect(await api.db.searchLog.count({ where: { query: 'old' } })).toBe(1);
  });
});
