import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QdrantVectorStore, VectorStoreError, type VectorRecord } from '../src/index.ts';
import { FAKE_SCROLL_PAGE, fakeQdrant } from './support/fake-qdrant.ts';
import { QDRANT_OPENAPI_FILE, QdrantOpenApi, type RecordedRequest } from './support/qdrant-openapi.ts';
import { startRecordingServer, type RecordingServer } from './support/recording-server.ts';

// No Qdrant server can run on this machine (ENVIRONMENT.md), so the adapter's
// real HTTP requests are checked against Qdrant 1.19's published OpenAPI
// contract instead: a local server records them and answers like Qdrant.

const COLLECTION = 'kbflow_contract';
const DIMS = 4;

function rec(vector: number[], over: Partial<VectorRecord['payload']> = {}): VectorRecord {
  return {
    id: randomUUID(),
    vector,
    payload: { tenantId: 'tenant-a', knowledgeBaseId: 'kb-1', documentId: 'doc-1', contentType: 'page', ...over },
  };
}

let api: QdrantOpenApi;

beforeAll(() => {
  api = QdrantOpenApi.load();
});

describe('the OpenAPI validator itself', () => {
  it('loads the Qdrant 1.19 spec from the shared data folder', () => {
    expect(existsSync(QDRANT_OPENAPI_FILE)).toBe(true);
    expect(api.operations.length).toBeGreaterThan(60);
  });

  it('rejects endpoints Qdrant 1.19 removed, misspelt fields and malformed filters', () => {
    const search: RecordedRequest = { method: 'POST', path: '/collections/c/points/search', query: {}, body: { vector: [1, 0], limit: 3 } };
    expect(api.validateRequest(search)).toEqual([expect.stringContaining('no such operation')]);

    const typo: RecordedRequest = { method: 'POST', path: '/collections/c/points/query', query: {}, body: { query: [1, 0], with_payloads: true } };
    expect(api.validateRequest(typo).join('\n')).toContain('with_payloads');

    const badFilter: RecordedRequest = {
      method: 'POST',
      path: '/collections/c/points/count',
      query: {},
      body: { filter: { must: [{ key: 'tenantId', match: { value: { nested: 1 } } }] }, exact: true },
    };
    expect(api.validateRequest(badFilter)).not.toEqual([]);

    const badQuery: RecordedRequest = { method: 'PUT', path: '/collections/c/points', query: { wait: 'yes' }, body: { points: [] } };
    expect(api.validateRequest(badQuery).join('\n')).toContain('query wait');

    const intId: RecordedRequest = { method: 'POST', path: '/collections/c/points/delete', query: {}, body: { points: ['not-a-uuid'] } };
    expect(api.validateRequest(intId)).not.toEqual([]);
  });

  it('accepts a well-formed query request', () => {
    const good: RecordedRequest = {
      method: 'POST',
      path: '/collections/c/points/query',
      query: {},
      body: { query: [1, 0], filter: { must: [{ key: 'tenantId', match: { value: 't' } }] }, limit: 3, with_payload: true },
    };
    expect(api.validateRequest(good)).toEqual([]);
  });
});

describe('QdrantVectorStore requests against the Qdrant 1.19 OpenAPI contract', () => {
  let server: RecordingServer;
  let fake: ReturnType<typeof fakeQdrant>;
  let store: QdrantVectorStore;

  beforeAll(async () => {
    fake = fakeQdrant(api);
    server = await startRecordingServer(fake.respond);
    store = new QdrantVectorStore({ url: server.url, collection: COLLECTION, timeoutMs: 5000 });
  });

  afterAll(async () => {
    await store.close();
    await server.close();
  });

  const calls = (operationId: string) => server.requests.filter((r) => api.match(r.method, r.path)?.operation.operationId === operationId);

  it('every request of every adapter method is a known operation with a valid body and query', async () => {
    const a = rec([1, 0, 0, 0]);
    const b = rec([0.9, 0.1, 0, 0], { contentType: 'case' });
    const c = rec([0, 1, 0, 0], { documentId: 'doc-2' });
    const many = Array.from({ length: 300 }, (_, i) => rec([1, i + 1, 0, 0], { tenantId: 'tenant-b' }));

    await store.health();
    expect(await store.search([1, 0, 0, 0], { tenantId: 'tenant-a' }, 3)).toEqual([]);
    await store.ensureCollection(DIMS);
    await store.ensureCollection(DIMS);
    await store.upsert([a, b, c]);
    await store.upsert(many);
    const hits = await store.search([1, 0, 0, 0], { tenantId: 'tenant-a', knowledgeBaseId: 'kb-1', documentId: 'doc-1', contentTypes: ['page', 'case'] }, 2);
    await store.search([0, 1, 0, 0], { tenantId: 'tenant-a' }, 5);
    expect(await store.count()).toBe(303);
    await store.count({ tenantId: 'tenant-a', contentTypes: ['case'] });
    await store.deleteByIds(many.map((r) => r.id));
    expect(sortedIds(await store.listIds({ tenantId: 'tenant-a' }))).toEqual(sortedIds([a.id, b.id, c.id]));
    expect(await store.deleteDocumentVectors('tenant-a', 'doc-1', [a.id])).toBeUndefined();
    await store.deleteDocumentVectors('tenant-a', 'doc-2');

    const problems = server.requests.flatMap((r) => api.validateRequest(r));
    expect(problems).toEqual([]);
    expect(fake.responseProblems).toEqual([]);

    expect(hits.map((h) => h.id)).toEqual([a.id, b.id]);
    expect(hits[0]).toEqual({ id: a.id, score: expect.closeTo(1, 5), payload: a.payload });
    expect(server.requests.some((r) => /\/points\/(search|recommend|discover)/.test(r.path))).toBe(false);
  });

  it('search goes through points/query with the tenant and every other filter as must conditions', () => {
    const [first, full] = calls('query_points');
    expect(first).toBeDefined();
    expect(full!.body).toEqual({
      query: [1, 0, 0, 0],
      filter: {
        must: [
          { key: 'tenantId', match: { value: 'tenant-a' } },
          { key: 'knowledgeBaseId', match: { value: 'kb-1' } },
          { key: 'documentId', match: { value: 'doc-1' } },
          { key: 'contentType', match: { any: ['page', 'case'] } },
        ],
      },
      limit: 2,
      with_payload: true,
      with_vector: false,
    });
    expect(calls('query_points').every((r) => JSON.stringify(r.body).includes('"key":"tenantId"'))).toBe(true);
  });

  it('ensureCollection creates a cosine collection once and keyword indexes once, tenantId as the tenant key', () => {
    expect(calls('create_collection').map((r) => r.body)).toEqual([{ vectors: { size: DIMS, distance: 'Cosine' } }]);
    expect(calls('create_field_index').map((r) => [r.body, r.query])).toEqual([
      [{ field_name: 'tenantId', field_schema: { type: 'keyword', is_tenant: true } }, { wait: 'true' }],
      [{ field_name: 'knowledgeBaseId', field_schema: 'keyword' }, { wait: 'true' }],
      [{ field_name: 'documentId', field_schema: 'keyword' }, { wait: 'true' }],
      [{ field_name: 'contentType', field_schema: 'keyword' }, { wait: 'true' }],
    ]);
  });

  it('writes wait for the change to apply, upserts are batched, and deletes by filter keep keepIds', () => {
    const upserts = calls('upsert_points');
    expect(upserts.map((r) => (r.body as { points: unknown[] }).points.length)).toEqual([3, 256, 44]);
    expect([...upserts, ...calls('delete_points')].every((r) => r.query.wait === 'true')).toBe(true);
    const byFilter = calls('delete_points').filter((r) => 'filter' in (r.body as object));
    expect(byFilter.map((r) => r.body)).toEqual([
      {
        filter: {
          must: [
            { key: 'tenantId', match: { value: 'tenant-a' } },
            { key: 'documentId', match: { value: 'doc-1' } },
          ],
          must_not: [{ has_id: [expect.any(String)] }],
        },
      },
      {
        filter: {
          must: [
            { key: 'tenantId', match: { value: 'tenant-a' } },
            { key: 'documentId', match: { value: 'doc-2' } },
          ],
        },
      },
    ]);
  });

  it('count is exact and listIds follows next_page_offset to the end', () => {
    expect(calls('count_points').map((r) => r.body)).toEqual([
      { exact: true },
      {
        filter: {
          must: [
            { key: 'tenantId', match: { value: 'tenant-a' } },
            { key: 'contentType', match: { any: ['case'] } },
          ],
        },
        exact: true,
      },
    ]);
    const scrolls = calls('scroll_points');
    expect(scrolls).toHaveLength(Math.ceil(3 / FAKE_SCROLL_PAGE));
    expect((scrolls[1]!.body as { offset?: unknown }).offset).toEqual(expect.any(String));
    expect(scrolls.every((r) => (r.body as { with_payload?: unknown }).with_payload === false)).toBe(true);
  });
});

describe('QdrantVectorStore error handling against a local HTTP server', () => {
  it('a 404 on a read answers empty, on a write fails as vector_collection_missing (not retryable)', async () => {
    const server = await startRecordingServer(() => ({ status: 404, body: { status: { error: "Not found: Collection `x` doesn't exist!" }, time: 0 } }));
    const store = new QdrantVectorStore({ url: server.url, collection: 'x', timeoutMs: 2000 });
    try {
      expect(await store.search([1, 0], { tenantId: 't' }, 3)).toEqual([]);
      expect(await store.count()).toBe(0);
      const error = await store.upsert([rec([1, 0])]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect(error).toMatchObject({ code: 'vector_collection_missing', retryable: false });
    } finally {
      await store.close();
      await server.close();
    }
  });

  it('a 503 is retryable and a 400 is not', async () => {
    let status = 503;
    const server = await startRecordingServer(() => ({ status, body: { status: { error: 'boom' }, time: 0 } }));
    const store = new QdrantVectorStore({ url: server.url, collection: 'x', timeoutMs: 2000 });
    try {
      expect(await store.count().catch((e: unknown) => e)).toMatchObject({ code: 'vector_store_unavailable', retryable: true });
      status = 400;
      expect(await store.count().catch((e: unknown) => e)).toMatchObject({ code: 'vector_store_failed', retryable: false });
    } finally {
      await store.close();
      await server.close();
    }
  });

  it('health fails as vector_store_unavailable when nothing listens', async () => {
    const server = await startRecordingServer(() => ({ body: {} }));
    const url = server.url;
    await server.close();
    const store = new QdrantVectorStore({ url, collection: 'x', timeoutMs: 2000 });
    expect(await store.health().catch((e: unknown) => e)).toMatchObject({ code: 'vector_store_unavailable', retryable: true });
    await store.close();
  });
});

function sortedIds(ids: string[]): string[] {
  return [...ids].sort();
}
