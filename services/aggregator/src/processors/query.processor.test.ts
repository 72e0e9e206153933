import { describe, expect, it } from '@jest/globals';
import type { DocumentRepository, SearchScope } from '@kbflow/db';
import type { Embedder } from '@kbflow/embeddings';
import { parseJobData, type JobContext, type JobInput } from '@kbflow/queues';
import type { VectorFilter, VectorHit, VectorStore } from '@kbflow/vector-store';
import { pino } from 'pino';
import { answerQuery, searchChunks, type QueryDeps } from './query.processor.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const KB = '22222222-2222-4222-8222-222222222222';

const CHUNKS: Record<string, { url: string; title: string; heading: string; text: string; source?: string }> = {
  a: {
    url: 'http://docs/files.html',
    title: 'Files',
    heading: 'Files',
    text: 'Files\n\nUse open() to read and write files. The with statement closes the file for you.',
  },
  b: {
    url: 'http://docs/venv.html',
    title: 'Venv',
    heading: 'Venv',
    text: 'Venv\n\nCreate a virtual environment with python -m venv. Activate it before installing packages.',
  },
  c: {
    url: 'http://docs/files.html',
    title: 'Files',
    heading: 'Files > Modes',
    text: 'Files > Modes\n\nThe mode argument of open() selects reading, writing or appending.',
  },
  // The same passage as `a` under another URL (a mirror).
  d: {
    url: 'http://mirror/files.html',
    title: 'Files',
    heading: 'Files',
    text: 'Files\n\nUse open() to read and write files. The with statement closes the file for you.',
    source: 'mirror',
  },
};

interface Calls {
  vectorFilters: VectorFilter[];
  vectorLimits: number[];
  keywordScopes: SearchScope[];
  keywordBudgets: (number | undefined)[];
  scopeChecks: SearchScope[];
  rereadScopes: SearchScope[];
}

function fakes(opts: {
  vectorHits?: string[];
  keywordHits?: string[];
  /** Under a budget, the keyword search runs out of it and returns only these. */
  keywordHitsInBudget?: string[];
  vectorDown?: boolean;
  inScope?: (id: string) => boolean;
  keywordBudgetMs?: number;
}): QueryDeps & { calls: Calls } {
  const calls: Calls = { vectorFilters: [], vectorLimits: [], keywordScopes: [], keywordBudgets: [], scopeChecks: [], rereadScopes: [] };
  const inScope = opts.inScope ?? (() => true);
  const embedder: Embedder = { model: 'fake', dimensions: 2, embed: async (texts) => texts.map(() => [1, 0]) };
  const vectors = {
    kind: 'lancedb',
    search: async (_v: number[], filter: VectorFilter, limit: number): Promise<VectorHit[]> => {
      calls.vectorFilters.push(filter);
      calls.vectorLimits.push(limit);
      if (opts.vectorDown) throw new Error('vector store unreachable');
      return (opts.vectorHits ?? [])
        .slice(0, limit)
        .map((id, i) => ({ id, score: 0.9 - i * 0.1, payload: { tenantId: TENANT, knowledgeBaseId: KB, documentId: 'd', contentType: 'page' } }));
    },
  } as unknown as VectorStore;
  const documents = {
    keywordSearch: async (scope: SearchScope, _query: string, _limit: number, o: { budgetMs?: number } = {}) => {
      calls.keywordScopes.push(scope);
      calls.keywordBudgets.push(o.budgetMs);
      const cut = o.budgetMs !== undefined && opts.keywordHitsInBudget !== undefined;
      const ids = cut ? opts.keywordHitsInBudget! : (opts.keywordHits ?? []);
      return { hits: ids.map((id, i) => ({ id, rank: 1 / (i + 1) })), complete: !cut };
    },
    chunkIdsInScope: async (scope: SearchScope, ids: string[]) => {
      calls.scopeChecks.push(scope);
      return new Set(ids.filter(inScope));
    },
    chunksWithDocuments: async (scope: SearchScope, ids: string[]) => {
      calls.rereadScopes.push(scope);
      return ids.filter(inScope).map((id) => ({
        id,
        documentId: `doc-${id}`,
        position: 0,
        contentType: 'page',
        hash: `hash-of:${CHUNKS[id]!.text}`,
        source: CHUNKS[id]!.source ?? 'docs',
        updatedAt: new Date('2026-01-01T00:00:00Z'),
        ...CHUNKS[id]!,
      }));
    },
  } as unknown as DocumentRepository;
  return { documents, embedder, vectors, chat: undefined, keywordBudgetMs: opts.keywordBudgetMs, calls };
}

const ctx = { job: { timestamp: Date.now() - 5, processedOn: Date.now() }, log: pino({ level: 'silent' }), correlationId: 'c' } as unknown as JobContext;
const base = { tenantId: TENANT, knowledgeBaseId: KB };
/** Job data as the worker sees it: the catalog's defaults applied. */
const answerJob = (input: Omit<JobInput<'query', 'answer-query'>, 'tenantId' | 'knowledgeBaseId'>) =>
  parseJobData('query', 'answer-query', { ...base, ...input });
const searchJob = (input: Omit<JobInput<'query', 'search-chunks'>, 'tenantId' | 'knowledgeBaseId'>) =>
  parseJobData('query', 'search-chunks', { ...base, ...input });

describe('answerQuery', () => {
  it('fuses vector and keyword results and cites each page once', async () => {
    const result = await answerQuery(
      answerJob({ query: 'how do I read files with open()', topK: 2 }),
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
    const result = await answerQuery(answerJob({ query: 'virtual environment', topK: 3 }), ctx, fakes({ vectorDown: true, keywordHits: ['b'] }));
    expect(result.degraded).toBe('keyword-only');
    expect(result.citations.map((c) => c.url)).toEqual(['http://docs/venv.html']);
  });

  it('when the keyword half runs out of its budget, fuses what it found with the vector list and says so', async () => {
    const deps = fakes({ vectorHits: ['b', 'c'], keywordHits: ['a', 'c'], keywordHitsInBudget: ['a'], keywordBudgetMs: 40 });
    const result = await answerQuery(answerJob({ query: 'read files', topK: 3 }), ctx, deps);
    expect(deps.calls.keywordBudgets).toEqual([40]);
    expect(result.degraded).toBe('keyword-partial');
    expect(result.citations.map((c) => c.url).sort()).toEqual(['http://docs/files.html', 'http://docs/venv.html']);
    // Within budget nothing is said.
    const whole = await answerQuery(answerJob({ query: 'read files', topK: 3 }), ctx, fakes({ vectorHits: ['b'], keywordHits: ['a'], keywordBudgetMs: 40 }));
    expect(whole.degraded).toBeUndefined();
  });

  it('with the vector store down, a keyword search cut by the budget is run again without one', async () => {
    const deps = fakes({ vectorDown: true, keywordHits: ['b', 'a'], keywordHitsInBudget: [], keywordBudgetMs: 40 });
    const result = await answerQuery(answerJob({ query: 'venv', topK: 3 }), ctx, deps);
    expect(deps.calls.keywordBudgets).toEqual([40, undefined]);
    expect(result.degraded).toBe('keyword-only');
    expect(result.citations.map((c) => c.url).sort()).toEqual(['http://docs/files.html', 'http://docs/venv.html']);
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
    const result = await answerQuery(answerJob({ query: 'read files', topK: 3 }), ctx, deps);
    expect(result.answer).toBe('Use open() [1].');
    expect(result.answeredBy).toBe('llm');
    expect(seen[0]![0]!.role).toBe('system');
    expect(seen[0]![1]!.content).toContain('[1] Files (http://docs/files.html)');
    expect(seen[0]![1]!.content).toContain('Question: read files');
  });

  it('says so when nothing was found', async () => {
    const result = await answerQuery(answerJob({ query: 'nothing', topK: 3 }), ctx, fakes({}));
    expect(result.citations).toEqual([]);
    expect(result.answer).toBe('No relevant passages were found in the knowledge base.');
  });

  it('collapses the same passage under two URLs into one citation unless asked not to', async () => {
    const hits = { vectorHits: ['a', 'd', 'b'], keywordHits: ['a', 'd', 'b'] };
    const collapsed = await answerQuery(answerJob({ query: 'read files', topK: 3 }), ctx, fakes(hits));
    expect(collapsed.citations.map((c) => c.url)).toEqual(['http://docs/files.html', 'http://docs/venv.html']);
    const kept = await answerQuery(answerJob({ query: 'read files', topK: 3, collapseDuplicates: false }), ctx, fakes(hits));
    expect(kept.citations.map((c) => c.url)).toEqual(['http://docs/files.html', 'http://mirror/files.html', 'http://docs/venv.html']);
  });
});

describe('searchChunks', () => {
  it('in vector mode returns cosine scores in vector order without touching full-text search', async () => {
    const deps = fakes({ vectorHits: ['c', 'a'], keywordHits: ['b'] });
    const result = await searchChunks(searchJob({ query: 'modes', topK: 5, mode: 'vector' }), ctx, deps);
    expect(result.results.map((r) => r.chunkId)).toEqual(['c', 'a']);
    expect(result.results[0]!.score).toBeCloseTo(0.9);
    expect(result.results[0]).toMatchObject({ contentType: 'page', source: 'docs', updatedAt: '2026-01-01T00:00:00.000Z' });
    expect(deps.calls.keywordScopes).toEqual([]);
  });

  it('in keyword mode runs the full-text search without the budget', async () => {
    const deps = fakes({ keywordHits: ['b', 'a'], keywordHitsInBudget: [], keywordBudgetMs: 40 });
    const result = await searchChunks(searchJob({ query: 'x', topK: 5, mode: 'keyword' }), ctx, deps);
    expect(deps.calls.keywordBudgets).toEqual([undefined]);
    expect(result.results.map((r) => r.chunkId)).toEqual(['b', 'a']);
    expect(result.degraded).toBeUndefined();
  });

  it('in vector mode with the store down falls back to keyword results', async () => {
    const result = await searchChunks(searchJob({ query: 'x', topK: 5, mode: 'vector' }), ctx, fakes({ vectorDown: true, keywordHits: ['b', 'a'] }));
    expect(result.degraded).toBe('keyword-only');
    expect(result.results.map((r) => r.chunkId)).toEqual(['b', 'a']);
  });

  it('filters content types inside the vector store and every filter in SQL, and re-reads under the full scope', async () => {
    const deps = fakes({ vectorHits: ['a', 'b'], keywordHits: ['b'] });
    await searchChunks(searchJob({ query: 'x', topK: 2, filters: { contentTypes: ['page', 'record'] } }), ctx, deps);
    expect(deps.calls.vectorFilters).toEqual([{ tenantId: TENANT, knowledgeBaseId: KB, contentTypes: ['page', 'record'] }]);
    const scope = { tenantId: TENANT, knowledgeBaseId: KB, contentTypes: ['page', 'record'] };
    expect(deps.calls.keywordScopes).toEqual([scope]);
    expect(deps.calls.rereadScopes).toEqual([scope]);
    // Content types alone need no check of vector hits against PostgreSQL.
    expect(deps.calls.scopeChecks).toEqual([]);
  });

  it('with a source or date filter over-fetches vector hits and keeps those PostgreSQL says are in scope', async () => {
    const filters = { sources: ['docs'], since: '2026-01-01T00:00:00Z' };
    const deps = fakes({ vectorHits: ['a', 'd', 'b', 'c'], inScope: (id) => id !== 'd' });
    const result = await searchChunks(searchJob({ query: 'x', topK: 2, mode: 'vector', filters, collapseDuplicates: false }), ctx, deps);
    expect(result.results.map((r) => r.chunkId)).toEqual(['a', 'b']);
    expect(deps.calls.vectorLimits[0]).toBe(2 * 5);
    expect(deps.calls.scopeChecks[0]).toEqual({ tenantId: TENANT, knowledgeBaseId: KB, ...filters });
    // The store had fewer vectors than asked for: no deeper second round.
    expect(deps.calls.vectorLimits).toHaveLength(1);
  });

  it('asks the vector store again, deeper, when too few of a full page of hits pass the filters', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const id of many) CHUNKS[id] = { url: `http://docs/${id}`, title: id, heading: id, text: `passage number ${id}` };
    const passing = new Set(many.slice(40));
    const deps = fakes({ vectorHits: many, inScope: (id) => passing.has(id) });
    const result = await searchChunks(searchJob({ query: 'x', topK: 3, mode: 'vector', filters: { sources: ['docs'] }, collapseDuplicates: false }), ctx, deps);
    expect(deps.calls.vectorLimits).toEqual([15, 60]);
    expect(result.results.map((r) => r.chunkId)).toEqual(many.slice(40, 43));
  });

  it('with diversity reorders by MMR: a different passage comes before a near-repeat', async () => {
    CHUNKS.e = {
      url: 'http://docs/venv2.html',
      title: 'Venv 2',
      heading: 'Venv',
      text: 'Venv\n\nActivate the virtual environment you created with python -m venv before installing packages.',
    };
    const hits = { vectorHits: ['b', 'e', 'a'], keywordHits: ['b', 'e', 'a'] };
    const plain = await searchChunks(searchJob({ query: 'venv', topK: 3 }), ctx, fakes(hits));
    expect(plain.results.map((r) => r.chunkId)).toEqual(['b', 'e', 'a']);
    const diverse = await searchChunks(searchJob({ query: 'venv', topK: 3, diversity: 0.7 }), ctx, fakes(hits));
    expect(diverse.results.map((r) => r.chunkId)).toEqual(['b', 'a', 'e']);
  });
});
