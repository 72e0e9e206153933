// embedChunks on real PostgreSQL and a real LanceDB store in a temp dir: a
// stored page's chunks become vectors under their chunk ids, with the
// payload queries filter on, and are marked indexed; redelivery writes no
// duplicate; chunks deleted since the job was queued are counted missing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, type Db } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import type { JobContext } from '@kbflow/queues';
import { createTenantFixture, type TenantFixture } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Job } from 'bullmq';
import { ChunkBatcher } from '../chunk-batcher.ts';
import { embedChunks, type EmbedDeps } from './embed-chunks.processor.ts';

const log = createLogger('embed-chunks-test', 'silent');
// embedChunks reads only the logger from its context.
const ctx = { job: { id: 'embed-chunks-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'embed-chunks-test' } satisfies JobContext;

let fixture: TenantFixture;
let db: Db;
let lanceDir: string;
let lance: LanceDbVectorStore;
let deps: EmbedDeps;
let readyCalls = 0;
let tenantId: string;
let knowledgeBaseId: string;
let pages = 0;

/** A page with `n` chunks, stored as the scraper stores it (unindexed chunks). */
async function storePage(n: number): Promise<{ documentId: string; chunkIds: string[] }> {
  const page = ++pages;
  const stored = await deps.documents.store({
    tenantId,
    knowledgeBaseId,
    url: `http://docs.local/page-${page}.html`,
    title: `Page ${page}`,
    markdown: `# Page ${page}`,
    contentHash: `page-${page}`,
    contentType: 'page',
    chunks: Array.from({ length: n }, (_, p) => ({
      position: p,
      heading: `Page ${page}`,
      text: `Page ${page}, part ${p}: how to configure feature ${page}.${p}.`,
      hash: `h-${page}-${p}`,
    })),
  });
  return { documentId: stored.documentId, chunkIds: stored.pendingChunkIds };
}

const indexedFlags = async (ids: string[]) =>
  (await db.chunk.findMany({ where: { id: { in: ids } }, select: { indexed: true }, orderBy: { position: 'asc' } })).map((c) => c.indexed !== null);

beforeAll(async () => {
  fixture = await createTenantFixture('embed-chunks');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-embed-chunks-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  const embedder = new HashingEmbedder();
  deps = {
    documents: new DocumentRepository(db),
    embedder,
    vectors: lance,
    ready: () => {
      readyCalls++;
      return lance.ensureCollection(embedder.dimensions);
    },
  };
});

afterAll(async () => {
  await lance.close();
  await fixture.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('embedChunks', () => {
  it("writes a vector per chunk under the chunk's id with its tenant, knowledge base, document and type, and marks the chunks indexed", async () => {
    const { documentId, chunkIds } = await storePage(3);
    expect(await indexedFlags(chunkIds)).toEqual([false, false, false]);

    expect(await embedChunks({ tenantId, documentId, chunkIds }, ctx, deps)).toEqual({ embedded: 3, missing: 0 });

    expect((await lance.listIds({ tenantId, documentId })).sort()).toEqual([...chunkIds].sort());
    const [vector] = await deps.embedder.embed(['Page 1, part 2: how to configure feature 1.2.']);
    const [hit] = await lance.search(vector!, { tenantId, knowledgeBaseId, contentTypes: ['page'] }, 1);
    expect(hit).toMatchObject({ id: chunkIds[2], payload: { tenantId, knowledgeBaseId, documentId, contentType: 'page' } });
    expect(await indexedFlags(chunkIds)).toEqual([true, true, true]);
  });

  it('a redelivered job upserts the same ids again: no duplicate vector', async () => {
    const { documentId, chunkIds } = await storePage(2);
    await embedChunks({ tenantId, documentId, chunkIds }, ctx, deps);
    const before = await lance.count({ tenantId });
    expect(await embedChunks({ tenantId, documentId, chunkIds }, ctx, deps)).toEqual({ embedded: 2, missing: 0 });
    expect(await lance.count({ tenantId })).toBe(before);
    expect(await lance.count({ tenantId, documentId })).toBe(2);
  });

  it('chunks deleted since the job was queued count as missing, and a job with none left touches no vector', async () => {
    const { documentId, chunkIds } = await storePage(2);
    await db.chunk.delete({ where: { id: chunkIds[1] } });
    expect(await embedChunks({ tenantId, documentId, chunkIds }, ctx, deps)).toEqual({ embedded: 1, missing: 1 });
    expect(await lance.listIds({ tenantId, documentId })).toEqual([chunkIds[0]]);

    await db.chunk.delete({ where: { id: chunkIds[0] } });
    const calls = readyCalls;
    const vectors = await lance.count();
    expect(await embedChunks({ tenantId, documentId, chunkIds }, ctx, deps)).toEqual({ embedded: 0, missing: 2 });
    expect(readyCalls).toBe(calls);
    expect(await lance.count()).toBe(vectors);
  });

  it("with the service's batcher, returns the batcher's counts and the chunks end up embedded and indexed the same way", async () => {
    const { documentId, chunkIds } = await storePage(2);
    const batcher = new ChunkBatcher(deps);
    expect(await embedChunks({ tenantId, documentId, chunkIds: [...chunkIds, '00000000-0000-4000-8000-000000000000'] }, ctx, { ...deps, batcher })).toEqual({
      embedded: 2,
      missing: 1,
    });
    expect((await lance.listIds({ tenantId, documentId })).sort()).toEqual([...chunkIds].sort());
    expect(await indexedFlags(chunkIds)).toEqual([true, true]);
  });
});
