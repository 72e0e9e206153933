// compactVectorStore on a real LanceDB store in a temp dir: a table left
// in many fragments by separate writes is compacted with every vector still
// found; a store with no table yet has nothing to compact.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import type { JobContext } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Job } from 'bullmq';
import { compactVectorStore } from './compact-vector-store.processor.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const KB = '22222222-2222-4222-8222-222222222222';
const log = createLogger('compact-test', 'silent');
// compactVectorStore reads only the logger from its context.
const ctx = { job: { id: 'compact-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'compact-test' } satisfies JobContext;
const embedder = new HashingEmbedder();

let lanceDir: string;
const stores: LanceDbVectorStore[] = [];

function store(table: string): LanceDbVectorStore {
  const s = new LanceDbVectorStore({ dir: lanceDir, table });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-compact-'));
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await rm(lanceDir, { recursive: true, force: true });
});

describe('compactVectorStore', () => {
  it('reports a table that separate writes left in fragments compacted, with every vector still found', async () => {
    const vectors = store('chunks');
    await vectors.ensureCollection(embedder.dimensions);
    const texts = Array.from({ length: 12 }, (_, i) => `fragment ${i}: how to rotate an API key`);
    const embedded = await embedder.embed(texts);
    const ids = texts.map(() => randomUUID());
    // One commit (one fragment) per write, as one embed job per page used to leave them.
    for (let i = 0; i < texts.length; i++) {
      await vectors.upsert([
        { id: ids[i]!, vector: embedded[i]!, payload: { tenantId: TENANT, knowledgeBaseId: KB, documentId: ids[i]!, contentType: 'page' } },
      ]);
    }

    const result = await compactVectorStore({ reason: 'crawl finished' }, ctx, { vectors });

    expect(result.compacted).toBe(true);
    expect(result.ms).toBeGreaterThanOrEqual(0);
    expect(await vectors.count({ tenantId: TENANT })).toBe(12);
    for (const i of [0, 5, 11]) {
      const [hit] = await vectors.search(embedded[i]!, { tenantId: TENANT }, 1);
      expect(hit?.id).toBe(ids[i]);
    }
  });

  it('a store whose table does not exist yet reports nothing compacted, and creates no table', async () => {
    const vectors = store('never_written');
    expect(await compactVectorStore({ reason: 'schedule' }, ctx, { vectors })).toEqual({ compacted: false, ms: expect.any(Number) });
    expect(existsSync(path.join(lanceDir, 'never_written.lance'))).toBe(false);
    expect(existsSync(path.join(lanceDir, 'chunks.lance'))).toBe(true);
  });
});
