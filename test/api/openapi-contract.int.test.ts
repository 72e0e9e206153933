// The OpenAPI document against the running API: it is valid OpenAPI 3.1
// (a maintained validator), it lists exactly the routes Express serves, and
// a request of each documented shape (every operation's example) succeeds
// with an answer that matches the documented response schema. The query
// and embed round trips are answered by the real processors, run in process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, QueueName, someHandlers } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Worker } from 'bullmq';
import { answerQuery, searchChunks } from '../../services/aggregator/src/processors/query.processor.ts';
import { embedTexts } from '../../services/embedder/src/processors/embed-texts.processor.ts';
import { ADMIN_KEY, DEV_KEY, startTestApi, type TestApi } from '../../services/api/test/support/test-api.ts';
import { describeApi } from '@kbflow/api';
import { expressRoutes, INFRASTRUCTURE_ROUTES } from './support/express-routes.ts';

let api: TestApi;
let doc: any;
let lanceDir: string;
let vectors: LanceDbVectorStore;
const workers: Worker[] = [];

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-openapi-lance-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'kbflow_chunks' });
  // With a vector store, so the tenant admin routes (which purge vectors) are served too.
  api = await startTestApi({ label: 'openapi', queryTimeoutMs: 60_000, vectors });
  const embedder = new HashingEmbedder();
  const common = {
    connection: api.redis,
    producer: api.producer,
    log: createLogger('openapi-test', 'silent'),
    registry: createMetrics('openapi-test').registry,
  };
  const queryDeps = { documents: new DocumentRepository(api.db), vectors, embedder, chat: undefined };
  workers.push(
    createWorker({
      ...common,
      queue: QueueName.query,
      handlers: { 'answer-query': (data, ctx) => answerQuery(data, ctx, queryDeps), 'search-chunks': (data, ctx) => searchChunks(data, ctx, queryDeps) },
    }),
    createWorker({ ...common, queue: QueueName.embed, handlers: someHandlers(QueueName.embed, { 'embed-texts': (data) => embedTexts(data, { embedder }) }) }),
  );
  doc = (await api.send('GET', '/openapi.json', { key: null })).json;
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await vectors?.close();
  await api?.close();
  await rm(lanceDir, { recursive: true, force: true });
}, 60_000);

/** Every documented operation as [method, OpenAPI path, operation]. */
function operations(): [string, string, any][] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => [m, p, op] as [string, string, any]),
  );
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, served without a key', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('GET /docs is a reference page whose scripts and styles the API serves itself (no CDN)', async () => {
    const page = await api.send('GET', '/docs', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    expect(assets.every((a) => a.startsWith('/docs/'))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${api.base}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect((await res.text()).length).toBeGreaterThan(asset.endsWith('init.js') ? 20 : 10_000);
    }
    expect(await fetch(`${api.base}/docs/init.js`).then((r) => r.text())).toContain("'/openapi.json'");
  });

  it('lists every route Express serves under /v1, and nothing it does not', () => {
    const served = expressRoutes(api.app).filter((r) => r.path.startsWith('/v1/'));
    const documented = operations().map(([m, p]) => `${m.toUpperCase()} ${p}`);
    expect(served.length).toBeGreaterThanOrEqual(30);
    expect([...new Set(served.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`))].sort()).toEqual([...documented].sort());
    // Outside /v1 only the infrastructure routes, which are not API operations.
    expect(
      [
        ...new Set(
          expressRoutes(api.app)
            .filter((r) => !r.path.startsWith('/v1/'))
            .map((r) => `${r.method} ${r.path}`),
        ),
      ].sort(),
    ).toEqual([...INFRASTRUCTURE_ROUTES].sort());
  });

  it('is the document the client is generated from (describeApi builds it from the same registry without a server)', () => {
    expect(describeApi()).toEqual(doc);
  });

  it('describes each operation: an id, bearer auth, a success response with a schema, error responses naming their codes', () => {
    const ids = new Set<string>();
    for (const [method, p, op] of operations()) {
      const where = `${method} ${p}`;
      expect([where, typeof op.operationId]).toEqual([where, 'string']);
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
      const statuses = Object.keys(op.responses).map(Number);
      expect([where, statuses.some((s) => s >= 200 && s < 300)]).toEqual([where, true]);
      expect([where, op.responses['401']?.description]).toEqual([where, expect.stringContaining('`unauthorized`')]);
      for (const s of statuses.filter((s) => s >= 400))
        expect(op.responses[String(s)].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    }
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  });

  it('is generated from the zod schemas the routes validate with: a documented limit is the enforced one', async () => {
    const crawl = doc.paths['/v1/crawl'].post.requestBody.content['application/json'].schema;
    expect(crawl.properties.maxPages.maximum).toBe(100_000);
    expect(crawl.additionalProperties).toBe(false);
    const over = await api.send('POST', '/v1/crawl', { body: { url: 'http://127.0.0.1:9/', maxPages: crawl.properties.maxPages.maximum + 1 } });
    expect(over.status).toBe(400);
    expect(over.json.error.field).toBe('maxPages');
    const unknown = await api.send('POST', '/v1/crawl', { body: { url: 'http://127.0.0.1:9/', colour: 'red' } });
    expect(unknown.json.error).toMatchObject({ code: 'unknown_field', field: 'colour' });
    // With tracing on, task status names the trace (test/e2e/tracing.int.test.ts reads it from a real one).
    expect(doc.components.schemas.TaskStatus.properties.traceId).toMatchObject({ type: 'string', pattern: '^[0-9a-f]{32}$' });
    expect(doc.components.schemas.TaskStatus.required).not.toContain('traceId');
  });
});

describe('a request of each documented shape succeeds against the running API', () => {
  const fixtures: Record<string, string> = {};
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;
  addFormats(ajv);

  /** The documented response schema of a status, resolved against the document's components. */
  const validatorFor = (schema: unknown) => {
    ajv.removeSchema('doc');
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    return ajv.compile(rewritten);
  };

  // Creates first, reads next, deletes last: each step's fixtures feed the next.
  const ORDER: Record<string, number> = { post: 0, get: 1, patch: 2, delete: 3 };

  it('every operation has an example, and each answers a documented success with a body matching its schema', async () => {
    const key = (op: any) => (op['x-kbflow-access'] === 'admin' ? ADMIN_KEY : undefined);
    // Things the examples' path parameters name, made the way a client would.
    await api.producer.enqueue(
      QueueName.deadLetter,
      'dead-letter',
      { queue: 'maintenance', jobName: 'health-check', jobId: 'x-1', data: {}, error: 'boom', attemptsMade: 3, failedAt: new Date().toISOString() },
      { priority: 8, jobId: 'contract-dl-1' },
    );
    await api.send('POST', '/v1/records?source=seed', {
      body: [{ id: 'seed-1', title: 'Password reset', body: 'Reset a forgotten password from the account page; the link expires after an hour.' }],
    });
    await api.producer.enqueue(
      QueueName.deadLetter,
      'dead-letter',
      { queue: 'maintenance', jobName: 'health-check', jobId: 'x-2', data: {}, error: 'boom', attemptsMade: 3, failedAt: new Date().toISOString() },
      { priority: 8, jobId: 'contract-dl-2' },
    );
    // A tenant whose purge is polled, and one the DELETE example purges.
    const purged = await api.send('POST', '/v1/admin/tenants', { key: ADMIN_KEY, body: { name: 'contract-purged' } });
    await api.send('DELETE', `/v1/admin/tenants/${purged.json.id}`, { key: ADMIN_KEY });
    fixtures.purgedTenantId = purged.json.id;
    fixtures.doomedTenantId = (await api.send('POST', '/v1/admin/tenants', { key: ADMIN_KEY, body: { name: 'contract-doomed' } })).json.id;
    fixtures.deadLetterId = 'contract-dl-1';
    fixtures.deadLetterId2 = 'contract-dl-2';

    const ops = operations().sort(([a, pa], [b, pb]) => ORDER[a]! - ORDER[b]! || pa.localeCompare(pb));
    const failures: string[] = [];
    for (const [method, p, op] of ops) {
      const example = op['x-kbflow-example'];
      if (!example) {
        failures.push(`${method} ${p}: no example`);
        continue;
      }
      const fill = (v: string) => v.replace(/^\{(\w+)\}$/, (_, name: string) => fixtures[name] ?? `missing fixture ${name}`);
      let url = p.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(fill(String(example.params?.[name] ?? ''))));
      const query = new URLSearchParams(example.query ?? {}).toString();
      if (query) url += `?${query}`;
      let res;
      if (example.files) {
        const form = new FormData();
        for (const f of example.files as { name: string; type: string; text: string }[]) form.append('file', new Blob([f.text], { type: f.type }), f.name);
        const sent = await fetch(`${api.base}${url}`, { method: 'POST', headers: { authorization: `Bearer ${DEV_KEY}` }, body: form });
        const text = await sent.text();
        res = { status: sent.status, text, json: JSON.parse(text) };
      } else res = await api.send(method.toUpperCase(), url, { key: key(op), ...(example.body !== undefined ? { body: example.body } : {}) });
      const documented = op.responses[String(res.status)];
      if (!documented || res.status >= 400) {
        failures.push(`${method} ${url}: ${res.status} ${res.text.slice(0, 300)}`);
        continue;
      }
      const schema = documented.content?.['application/json']?.schema;
      if (schema) {
        const validate = validatorFor(schema);
        if (!validate(res.json)) failures.push(`${method} ${url}: body does not match the documented schema: ${ajv.errorsText(validate.errors)}`);
      }
      if (res.json?.taskId) fixtures.taskId ??= res.json.taskId;
      if (p === '/v1/cases' && method === 'post') fixtures.caseId = res.json.id;
      if (p === '/v1/knowledge' && method === 'post') fixtures.articleId = res.json.id;
      if (p === '/v1/admin/tenants' && method === 'post') fixtures.tenantId = res.json.id;
      if (p === '/v1/admin/tenants/{id}/keys' && method === 'post') fixtures.keyId = res.json.id;
      if (p === '/v1/sources' && method === 'post') fixtures.sourceId = res.json.id;
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
