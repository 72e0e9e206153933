import { describe, expect, it } from '@jest/globals';
import type { DocumentRepository, TaskProgress, TaskRepository } from '@kbflow/db';
import type { JobContext, JobProducer } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';
import { pino } from 'pino';
import { completeCrawl } from './complete.processor.ts';

const TASK = '33333333-3333-4333-8333-333333333333';
const TENANT = '11111111-1111-4111-8111-111111111111';
const ZERO: TaskProgress = {
  discovered: 0,
  scraped: 0,
  skipped: 0,
  embedded: 0,
  failed: 0,
  notModified: 0,
  unchangedByHash: 0,
  deletedGone: 0,
  deletedUnreached: 0,
  cancelled: 0,
};

function setup(opts: {
  deleteUnreached?: boolean;
  incomplete?: string;
  progress?: Partial<TaskProgress>;
  vectorsDown?: boolean;
  unreached?: string[];
  state?: string;
  webhookEvents?: string[];
}) {
  const calls: string[] = [];
  const prunes: unknown[] = [];
  const deletedVectors: string[][] = [];
  const enqueued: { queue: string; name: string; jobs: unknown[] }[] = [];
  const progress = { ...ZERO, discovered: 3, skipped: 3, ...opts.progress };
  const tasks = {
    get: async () => ({
      id: TASK,
      tenantId: TENANT,
      knowledgeBaseId: 'kb',
      state: 'running',
      params: { seeds: [], maxPages: 10, maxDepth: 2, engine: 'http', origins: ['http://a.test'], deleteUnreached: opts.deleteUnreached },
    }),
    incompleteReason: async () => opts.incomplete,
    recordPrune: async (_id: string, outcome: unknown) => void prunes.push(outcome),
    progress: async () => progress,
    finish: async () => ({ state: opts.state ?? 'completed', progress }),
  } as unknown as TaskRepository;
  const documents = {
    deleteUnreached: async (_t: string, _kb: string, prefixes: string[]) => {
      calls.push(`deleteUnreached ${prefixes.join(',')}`);
      const ids = opts.unreached ?? [];
      return { documentIds: ids, chunkIds: ids.map((d) => `${d}-chunk`) };
    },
    refreshStatistics: async () => void calls.push('analyze'),
  } as unknown as DocumentRepository;
  const vectors = {
    compact: async () => (calls.push('compact'), true),
    deleteByIds: async (ids: string[]) => {
      if (opts.vectorsDown) throw new Error('breaker open');
      deletedVectors.push(ids);
    },
  } as unknown as VectorStore;
  const producer = {
    enqueue: async (queue: string, name: string, data: unknown) => void enqueued.push({ queue, name, jobs: [data] }),
    enqueueBulk: async (queue: string, name: string, jobs: unknown[]) => void enqueued.push({ queue, name, jobs }),
  } as unknown as JobProducer;
  const ctx = { log: pino({ level: 'silent' }), correlationId: TASK } as unknown as JobContext;
  const asked: string[] = [];
  const webhooks = {
    eventFor: async (taskId: string, event: 'run.started' | 'run.completed' | 'run.failed') => {
      asked.push(event);
      return opts.webhookEvents?.includes(event) ? { tenantId: TENANT, taskId, targetId: taskId, event, payload: { event } } : undefined;
    },
  };
  const run = () => completeCrawl({ tenantId: TENANT, taskId: TASK }, ctx, { tasks, documents, vectors, producer, webhooks });
  return { run, calls, prunes, deletedVectors, enqueued, asked };
}

describe('completeCrawl', () => {
  it.each([
    ['completed', 'run.completed'],
    ['cancelled', 'run.completed'],
    ['failed', 'run.failed'],
  ])('a crawl that ends %s asks for %s, queued on the webhook queue under its delivery id', async (state, event) => {
    const t = setup({ state, webhookEvents: [event] });
    await t.run();
    expect(t.asked).toEqual([event]);
    const job = t.enqueued.find((e) => e.queue === 'webhook');
    expect(job?.name).toBe('deliver-webhook');
    expect(job?.jobs[0]).toMatchObject({ taskId: TASK, event, deliveryId: `${TASK}.${event}`, payload: { deliveryId: `${TASK}.${event}`, event } });
  });

  it('a crawl whose task has no webhook for the event queues no delivery', async () => {
    const t = setup({ state: 'failed', webhookEvents: ['run.completed'] });
    await t.run();
    expect(t.asked).toEqual(['run.failed']);
    expect(t.enqueued.filter((e) => e.queue === 'webhook')).toEqual([]);
  });

  it('an unchanged recrawl (nothing scraped or deleted) neither analyzes nor compacts', async () => {
    const t = setup({ progress: { notModified: 3 } });
    await t.run();
    expect(t.calls).toEqual([]);
  });

  it('a crawl that changed a page analyzes and compacts', async () => {
    const t = setup({ progress: { scraped: 1, embedded: 1, skipped: 2 } });
    await t.run();
    expect(t.calls).toEqual(['analyze', 'compact']);
  });

  it('without deleteUnreached, nothing is pruned', async () => {
    const t = setup({});
    await t.run();
    expect(t.prunes).toEqual([]);
    expect(t.calls.some((c) => c.startsWith('deleteUnreached'))).toBe(false);
  });

  it('a complete crawl with deleteUnreached removes the unreached pages within its origins, and their vectors before the task finishes', async () => {
    const t = setup({ deleteUnreached: true, unreached: ['d1', 'd2'] });
    await t.run();
    expect(t.calls[0]).toBe('deleteUnreached http://a.test/');
    expect(t.deletedVectors).toEqual([['d1-chunk', 'd2-chunk']]);
    expect(t.prunes).toEqual([{ deleted: 2 }]);
    // Pages were removed: the index changed, so it is compacted.
    expect(t.calls).toContain('compact');
  });

  it('with the vector store down, the vectors go to the embedder as delete-vectors jobs', async () => {
    const t = setup({ deleteUnreached: true, unreached: ['d1'], vectorsDown: true });
    await t.run();
    expect(t.enqueued).toEqual([
      {
        queue: 'embed',
        name: 'delete-vectors',
        jobs: [expect.objectContaining({ data: expect.objectContaining({ tenantId: TENANT, chunkIds: ['d1-chunk'] }) })],
      },
    ]);
    expect(t.prunes).toEqual([{ deleted: 1 }]);
  });

  it('an incomplete crawl removes nothing and records why', async () => {
    const t = setup({ deleteUnreached: true, incomplete: 'maxPages', unreached: ['d1'] });
    await t.run();
    expect(t.calls.some((c) => c.startsWith('deleteUnreached'))).toBe(false);
    expect(t.prunes).toEqual([{ skipped: 'maxPages' }]);
  });
});
