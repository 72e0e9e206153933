import { describe, expect, it } from '@jest/globals';
import { explainWait, type WaitFacts } from './wait-reason.ts';

const calm: WaitFacts = { openBreakers: [], rateLimitMs: { scrape: 0, embed: 0, aggregate: 0 } };
const progress = (p: Partial<Record<'discovered' | 'scraped' | 'skipped' | 'embedded' | 'failed' | 'deletedGone', number>>) => ({
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
  ...p,
});

describe('explainWait', () => {
  it("says tenant-limit while the tenant's jobs are held back by its concurrency share, before the queue position", () => {
    const facts = { ...calm, tenantLimit: 4 };
    expect(explainWait({ state: 'running', progress: progress({ discovered: 10, scraped: 2 }) }, facts)).toEqual({
      reason: 'tenant-limit',
      maxConcurrentProcessing: 4,
    });
    // An open breaker still comes first: it holds every tenant.
    expect(explainWait({ state: 'running', progress: progress({ discovered: 10 }) }, { ...facts, openBreakers: [{ name: 'browser' }] })).toMatchObject({
      reason: 'breaker-open',
    });
  });

  it('names the open breaker a running task waits for', () => {
    const facts = { ...calm, openBreakers: [{ name: 'embedding-provider', retryAt: '2026-11-22T12:00:00.000Z' }] };
    expect(explainWait({ state: 'running', progress: progress({ discovered: 3, scraped: 3 }) }, facts)).toEqual({
      reason: 'breaker-open',
      dependency: 'embedding-provider',
      retryAt: '2026-11-22T12:00:00.000Z',
    });
  });

  it('says the queue is rate-limited and for how long', () => {
    const facts = { ...calm, rateLimitMs: { scrape: 0, embed: 4000, aggregate: 0 } };
    expect(explainWait({ state: 'running', progress: progress({ discovered: 2, scraped: 2 }) }, facts)).toEqual({
      reason: 'rate-limited',
      queue: 'embed',
      retryInMs: 4000,
    });
  });

  it("gives a queued task's own pages still to fetch, never the queue's length (other tenants' work)", () => {
    expect(explainWait({ state: 'queued', progress: progress({ discovered: 1 }) }, calm)).toEqual({ reason: 'queued', queue: 'scrape', pagesWaiting: 1 });
    expect(explainWait({ state: 'running', progress: progress({ discovered: 7, scraped: 2, failed: 1 }) }, calm)).toEqual({
      reason: 'queued',
      queue: 'scrape',
      pagesWaiting: 4,
    });
  });

  it('says a task whose pages are all fetched waits for their embeddings', () => {
    expect(explainWait({ state: 'running', progress: progress({ discovered: 5, scraped: 4, skipped: 1, embedded: 1 }) }, calm)).toEqual({
      reason: 'waiting-for-children',
      pagesAwaitingEmbedding: 3,
    });
  });

  it('counts a page deleted as gone (404/410) as processed, not as queued', () => {
    expect(explainWait({ state: 'running', progress: progress({ discovered: 3, scraped: 1, embedded: 1, skipped: 1, deletedGone: 1 }) }, calm)).toBeUndefined();
    expect(explainWait({ state: 'running', progress: progress({ discovered: 3, scraped: 1, embedded: 1, skipped: 1 }) }, calm)).toEqual({
      reason: 'queued',
      queue: 'scrape',
      pagesWaiting: 1,
    });
  });

  it('says nothing for a finished task', () => {
    const facts = { ...calm, openBreakers: [{ name: 'vector-store' }] };
    expect(explainWait({ state: 'completed', progress: progress({ discovered: 1, embedded: 1, scraped: 1 }) }, facts)).toBeUndefined();
  });
});
