import { describe, expect, it } from '@jest/globals';
import type { Embedder } from '@kbflow/embeddings';
import type { VectorRecord } from '@kbflow/vector-store';
import { ChunkBatcher } from './chunk-batcher.ts';

const KB = 'kb';

/** A fake store of chunk rows, an embedder and a vector store that record what they were asked. */
function fakes(opts: { failUpsertWhen?: (records: VectorRecord[]) => boolean } = {}) {
  const rows = new Map<string, { tenantId: string; text: string }>();
  const upserts: string[][] = [];
  const marked: string[][] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const embedder: Embedder = { model: 'fake', dimensions: 2, embed: async (texts: string[]) => texts.map((t) => [t.length, 1]) } as unknown as Embedder;
  const batcher = new ChunkBatcher({
    documents: {
      chunksForEmbedding: async (tenantId: string, ids: string[]) =>
        ids
          .filter((id) => rows.get(id)?.tenantId === tenantId)
          .map((id) => ({ id, documentId: `doc-${id}`, text: rows.get(id)!.text, knowledgeBaseId: KB, contentType: 'page' })),
      markChunksIndexed: async (ids: string[]) => void marked.push(ids),
    },
    embedder,
    vectors: {
      upsert: async (records: VectorRecord[]) => {
        if (hold) await new Promise<void>((r) => (release = r));
        if (opts.failUpsertWhen?.(records)) throw new Error('bad batch');
        upserts.push(records.map((r) => r.id));
      },
    },
    ready: async () => undefined,
  });
  return {
    batcher,
    rows,
    upserts,
    marked,
    holdWrites: () => (hold = true),
    releaseWrites: () => {
      hold = false;
      release?.();
    },
  };
}

describe('ChunkBatcher', () => {
  it('writes the chunks of the jobs that arrive while a batch is being written in one upsert, and answers each job with its own counts', async () => {
    const f = fakes();
    for (const id of ['a1', 'a2', 'b1', 'c1', 'c2', 'c3']) f.rows.set(id, { tenantId: 't', text: id });
    f.holdWrites();
    const first = f.batcher.submit('t', ['a1', 'a2']);
    // Queued behind the first batch's write: they go out together.
    const second = f.batcher.submit('t', ['b1', 'gone']);
    const third = f.batcher.submit('t', ['c1', 'c2', 'c3']);
    await new Promise((r) => setImmediate(r));
    f.releaseWrites();
    expect(await Promise.all([first, second, third])).toEqual([
      { embedded: 2, missing: 0 },
      { embedded: 1, missing: 1 },
      { embedded: 3, missing: 0 },
    ]);
    expect(f.upserts).toEqual([
      ['a1', 'a2'],
      ['b1', 'c1', 'c2', 'c3'],
    ]);
    expect(f.marked).toEqual([
      ['a1', 'a2'],
      ['b1', 'c1', 'c2', 'c3'],
    ]);
  });

  it('never reads a chunk for a job of another tenant', async () => {
    const f = fakes();
    f.rows.set('x', { tenantId: 'other', text: 'x' });
    expect(await f.batcher.submit('t', ['x'])).toEqual({ embedded: 0, missing: 1 });
    expect(f.upserts).toEqual([]);
  });

  it('when a batch fails, retries its jobs one by one, so only the job with the bad data fails', async () => {
    const f = fakes({ failUpsertWhen: (records) => records.some((r) => r.id === 'bad') });
    for (const id of ['ok1', 'bad', 'ok2', 'first']) f.rows.set(id, { tenantId: 't', text: id });
    f.holdWrites();
    const first = f.batcher.submit('t', ['first']);
    const ok1 = f.batcher.submit('t', ['ok1']);
    const bad = f.batcher.submit('t', ['bad']);
    const ok2 = f.batcher.submit('t', ['ok2']);
    await new Promise((r) => setImmediate(r));
    f.releaseWrites();
    await expect(first).resolves.toEqual({ embedded: 1, missing: 0 });
    await expect(ok1).resolves.toEqual({ embedded: 1, missing: 0 });
    await expect(bad).rejects.toThrow('bad batch');
    await expect(ok2).resolves.toEqual({ embedded: 1, missing: 0 });
    expect(f.upserts).toEqual([['first'], ['ok1'], ['ok2']]);
  });

  it('caps a batch at maxChunks', async () => {
    const upserts: string[][] = [];
    const ids = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const batcher = new ChunkBatcher(
      {
        documents: {
          chunksForEmbedding: async (_tenant: string, list: string[]) =>
            list.map((id) => ({ id, documentId: 'd', text: id, knowledgeBaseId: KB, contentType: 'page' })),
          markChunksIndexed: async () => undefined,
        },
        embedder: { embed: async (texts: string[]) => texts.map(() => [1, 1]) } as unknown as Embedder,
        vectors: { upsert: async (records: VectorRecord[]) => void upserts.push(records.map((r) => r.id)) },
        ready: async () => undefined,
      },
      { maxChunks: 4 },
    );
    await Promise.all([batcher.submit('t', ids.slice(0, 3)), batcher.submit('t', ids.slice(3, 6)), batcher.submit('t', ids.slice(6, 10))]);
    expect(upserts.map((u) => u.length)).toEqual([3, 3, 4]);
    expect(upserts.flat()).toEqual(ids);
  });
});
