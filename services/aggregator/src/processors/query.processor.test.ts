import { describe, expect, it } from '@jest/globals';
import type { DocumentRepository } from '@kbflow/db';
import type { Embedder } from '@kbflow/embeddings';
import type { JobContext } from '@kbflow/queues';
import type { VectorHit, VectorStore } from '@kbflow/vector-store';
import { pino } from 'pino';
import { answerQuery, searchChunks, type QueryDeps } from './query.processor.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const KB = '22222222-2222-4222-8222-222222222222';

const CHUNKS: Record<string, { url: string; title: string; heading: string; text: string }> = {
  a: { url: 'http://docs/files.html', title: 'Files', heading: 'Files', text: 'Files\n\nUse open() to read and write files. The with statement closes the file for you.' },
  b: { url: 'http://docs/venv.html', title: 'Venv', heading: 'Venv', text: 'Venv\n\nCreate a virtual environment with python -m venv. Activate it before installing packages.' },
  c: { url: 'http://docs/files.html', title: 'Files', heading: 'Files > Modes', text: 'Files > Modes\n\nThe mode argument of open() selects reading, writing or appending.' },
};

function fakes(opts: { vectorHits?: string[]; keywordHits?: string[]; vectorDown?: boolean }): QueryDeps {
  const embedder: Embedder = { model: 'fake', dimensions: 2, embed: async (texts) => texts.map(() => [1, 0]) };
  const vectors = {
    kind: 'lancedb',
    search: async (): Promise<VectorHit[]> => {
      if (opts.vectorDown) throw new Error('vector store unreachable');
      return (opts.vectorHits ?? []).map((id, i) => ({ id, score: 0.9 - i * 0.1, payload: { tenantId: TENANT, knowledgeBaseId: KB, documentId: 'd', contentType: 'page' } }));
    },
  } as unknown as VectorStore;
  const documents = {
    keywordSearch: async () => (opts.keywordHits ?? []).map((id, i) => ({ id, rank: 1 / (i + 1) })),
    chunksWithDocuments: async (_tenant: string, ids: string[]) =>
      ids.map((id) => ({ id, documentId: `doc-${id}`, position: 0, contentType: 'page', ...CHUNKS[id]! })),
  } as unknown as DocumentRepository;
  return { documents, embedder, vectors, chat: undefined };
}

const ctx = { job: { timestamp: Date.now() - 5, processedOn: Date.now() }, log: pino({ level: 'silent' }), correlationId: 'c' } as unknown as JobContext;

describe('answerQuery', () => {
  it('fuses vector and keyword results and cites each page once', async () => {
    const result = await answerQuery(
      { tenantId: TENANT, knowledgeBaseId: KB, query: 'how do I read files with open()', topK: 2, mode: 'hybrid' },
      ctx,
      fakes({ vectorHits: ['b', 'a'], keywordHits: ['a', 'c'] }),
    );
    expect(result.citations.map((c) => c.url)).toEqual(['http://docs/files.html', 'http://docs/venv.html']);
    expect(result.answer).toContain('open() to read and write files');
    expect(result.answer).toMatch(/\[1\]/);
    expect(result.answeredBy).toBe('extractive');
    expect(result.degraded).toBeUndefined();
  });

  it('when the vector store is down, answers from keyword search and says so', async () => {
    const result = await answerQuery(
      { tenantId: TENANT, knowledgeBaseId: KB, query: 'virtual environment', topK: 3, mode: 'hybrid' },
      ctx,
      fakes({ vectorDown: true, keywordHits: ['b'] }),
    );
    expect(result.degraded).toBe('keyword-only');
    expect(result.citations.map((c) => c.url)).toEqual(['http://docs/venv.html']);
  });

  it('with a chat model configured, answers through it from the numbered sources', async () => {
    const seen: { role: string; content: string }[][] = [];
    const deps = {
      ...fakes({ vectorHits: ['a'], keywordHits: ['a'] }),
      chat: {
        model: 'fake-chat',
        complete: async (messages: { role: 'system' | 'user' | 'assistant'; content: string }[]) => {
          seen.push(messages);
          return 'Use open() [1].';
        },
      },
    };
    const result = await answerQuery({ tenantId: TENANT, knowledgeBaseId: KB, query: 'read files', topK: 3, mode: 'hybrid' }, ctx, deps);
    expect(result.answer).toBe('Use open() [1].');
    expect(result.answeredBy).toBe('llm');
    expect(seen[0]![0]!.role).toBe('system');
    expect(seen[0]![1]!.content).toContain('[1] Files (http://docs/files.html)');
    expect(seen[0]![1]!.content).toContain('Question: read files');
  });

  it('says so when nothing was found', async () => {
    const result = await answerQuery({ tenantId: TENANT, knowledgeBaseId: KB, query: 'nothing', topK: 3, mode: 'hybrid' }, ctx, fakes({}));
    expect(result.citations).toEqual([]);
    expect(result.answer).toBe('No relevant passages were found in the knowledge base.');
  });
});

describe('searchChunks', () => {
  it('in vector mode returns cosine scores in vector order without touching full-text search', async () => {
    const deps = fakes({ vectorHits: ['c', 'a'], keywordHits: ['b'] });
    const result = await searchChunks({ tenantId: TENANT, knowledgeBaseId: KB, query: 'modes', topK: 5, mode: 'vector' }, ctx, deps);
    expect(result.results.map((r) => r.chunkId)).toEqual(['c', 'a']);
    expect(result.results[0]!.score).toBeCloseTo(0.9);
  });

  it('in vector mode with the store down falls back to keyword results', async () => {
    const result = await searchChunks({ tenantId: TENANT, knowledgeBaseId: KB, query: 'x', topK: 5, mode: 'vector' }, ctx, fakes({ vectorDown: true, keywordHits: ['b', 'a'] }));
    expect(result.degraded).toBe('keyword-only');
    expect(result.results.map((r) => r.chunkId)).toEqual(['b', 'a']);
  });
});
