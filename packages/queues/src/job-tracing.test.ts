import { describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { ALL_QUEUES, jobNamesOf, jobSchemas, parseJobData } from './catalog.ts';
import { traceJobs, withTraceContext } from './job-tracing.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context in job data', () => {
  it('every job schema of every queue accepts traceparent and tracestate', () => {
    const missing = ALL_QUEUES.flatMap((queue) =>
      jobNamesOf(queue)
        .filter((name) => {
          const shape = (jobSchemas[queue] as unknown as Record<string, { shape: Record<string, unknown> }>)[name]!.shape;
          return !('traceparent' in shape && 'tracestate' in shape);
        })
        .map((name) => `${queue}/${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('survives validation, where zod would drop an unknown key', () => {
    const data = { tenantId: 't', taskId: 'k', url: 'http://example.com/', depth: 0, traceparent: TRACEPARENT, tracestate: 'vendor=1' };
    expect(parseJobData('scrape', 'scrape-page', data)).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=1' });
    expect(parseJobData('maintenance', 'health-check', { traceparent: TRACEPARENT })).toEqual({ traceparent: TRACEPARENT });
  });

  it('is bounded: an over-long tracestate fails validation (the producer drops such a one before it gets here)', () => {
    expect(() => parseJobData('maintenance', 'health-check', { tracestate: 'x'.repeat(513) })).toThrow();
  });
});

describe('with tracing off', () => {
  it('enqueued data is passed through untouched, and the processor is not wrapped', () => {
    const data = { tenantId: 't' };
    expect(withTraceContext(data)).toBe(data);
    const processor = async (job: Job) => job.id;
    expect(traceJobs('scrape', processor)).toBe(processor);
  });
});
