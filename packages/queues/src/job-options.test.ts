import { describe, expect, it } from '@jest/globals';
import { jobNamesOf, parseJobData, QueueName, ALL_QUEUES } from './catalog.ts';
import { computeBackoff } from './job-options.ts';
import { Priority } from './priorities.ts';

describe('computeBackoff', () => {
  it('doubles from 2 s and caps at 30 s without jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => computeBackoff(n, mid))).toEqual([2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitters within ±25 %', () => {
    expect(computeBackoff(2, () => 0)).toBe(3000);
    expect(computeBackoff(2, () => 0.999999)).toBe(5000);
  });
});

describe('the catalog', () => {
  it('has a queue per service input plus dead-letter, each with at least one job', () => {
    expect([...ALL_QUEUES].sort()).toEqual(['aggregate', 'dead-letter', 'embed', 'maintenance', 'query', 'scrape', 'webhook']);
    for (const queue of ALL_QUEUES) expect(jobNamesOf(queue).length).toBeGreaterThan(0);
  });

  it('orders priorities CRITICAL < HIGH < NORMAL < LOW < BULK', () => {
    expect(Object.values(Priority)).toEqual([1, 2, 5, 8, 10]);
  });

  it('applies defaults and rejects payloads that break the contract', () => {
    const data = parseJobData(QueueName.scrape, 'scrape-page', { tenantId: 't', taskId: 'x', url: 'http://a.b/', depth: 0 });
    expect(data.engine).toBe('auto');
    expect(() => parseJobData(QueueName.embed, 'embed-chunks', { tenantId: 't', documentId: 'd', chunkIds: [] })).toThrow();
    expect(() => parseJobData(QueueName.query, 'answer-query', { tenantId: 't', knowledgeBaseId: 'k', query: '', topK: 5 })).toThrow();
  });
});
