import { describe, expect, it } from '@jest/globals';
import { AppError } from '@kbflow/errors';
import { createLogger } from '@kbflow/observability';
import { someHandlers, type JobContext } from '@kbflow/queues';
import type { Job } from 'bullmq';
import { recordRuns, runTrigger, storableResult, type RunRecorder } from './schedule-runs.ts';

type Call = { op: 'start' | 'finish'; [k: string]: unknown };

function recorder(opts: { failWith?: Error } = {}): RunRecorder & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    start: async (run) => {
      calls.push({ op: 'start', ...run });
      if (opts.failWith) throw opts.failWith;
    },
    finish: async (run) => {
      calls.push({ op: 'finish', ...run });
      if (opts.failWith) throw opts.failWith;
    },
  };
}

const log = createLogger('test', 'silent');
const ctx = (job: Partial<Job>): JobContext => ({ job: { attemptsMade: 0, data: {}, ...job } as Job, log, correlationId: 'c' });

describe('recordRuns', () => {
  it('records a completed run with its trigger, attempt, duration and result', async () => {
    const runs = recorder();
    const handlers = recordRuns(runs, someHandlers('maintenance', { 'vectorization-sweep': async () => ({ swept: 3 }) }));
    const result = await handlers['vectorization-sweep'](
      { trigger: 'schedule' },
      ctx({ id: 'repeat:vectorization-sweep:1000', repeatJobKey: 'vectorization-sweep' }),
    );
    expect(result).toEqual({ swept: 3 });
    expect(runs.calls).toEqual([
      { op: 'start', name: 'vectorization-sweep', jobId: 'repeat:vectorization-sweep:1000', trigger: 'schedule', attempt: 1 },
      {
        op: 'finish',
        name: 'vectorization-sweep',
        jobId: 'repeat:vectorization-sweep:1000',
        status: 'completed',
        durationMs: expect.any(Number),
        result: { swept: 3 },
      },
    ]);
  });

  it('records a failed attempt with its error and rethrows it; the retry is attempt 2 of the same row', async () => {
    const runs = recorder();
    let calls = 0;
    const handlers = recordRuns(
      runs,
      someHandlers('maintenance', {
        'case-sync': async () => {
          calls++;
          if (calls === 1) throw new AppError('db_busy', 'database busy');
          return undefined;
        },
      }),
    );
    await expect(handlers['case-sync']({ trigger: 'manual' }, ctx({ id: 'manual-case-sync-5' }))).rejects.toThrow('database busy');
    await handlers['case-sync']({ trigger: 'manual' }, ctx({ id: 'manual-case-sync-5', attemptsMade: 1 }));
    expect(runs.calls.map((c) => [c.op, c.jobId, c.trigger ?? c.status, c.attempt ?? c.error ?? null])).toEqual([
      ['start', 'manual-case-sync-5', 'manual', 1],
      ['finish', 'manual-case-sync-5', 'failed', 'db_busy: database busy'],
      ['start', 'manual-case-sync-5', 'manual', 2],
      ['finish', 'manual-case-sync-5', 'completed', null],
    ]);
    expect(runs.calls[3]!.result).toBeUndefined();
  });

  it('still runs the job when its row cannot be written', async () => {
    const runs = recorder({ failWith: new Error('postgres down') });
    const handlers = recordRuns(runs, someHandlers('maintenance', { 'health-check': async () => ({ ok: false }) }));
    await expect(handlers['health-check']({}, ctx({ id: 'repeat:health-check:1', repeatJobKey: 'health-check' }))).resolves.toEqual({ ok: false });
    expect(runs.calls.map((c) => c.op)).toEqual(['start', 'finish']);
  });
});

describe('runTrigger', () => {
  it('tells scheduler iterations, API triggers and jobs other services enqueued apart', () => {
    expect(runTrigger({ id: 'repeat:health-check:1', repeatJobKey: 'health-check', data: {} })).toBe('schedule');
    expect(runTrigger({ id: 'manual-health-check-17', data: {} })).toBe('manual');
    expect(runTrigger({ id: 'x', data: { trigger: 'manual' } })).toBe('manual');
    expect(runTrigger({ id: 'compact-after-crawl-1', data: { reason: 'crawl' } })).toBe('event');
  });
});

describe('storableResult', () => {
  it('keeps small JSON, summarizes a large result and stores nothing for none', () => {
    expect(storableResult({ a: 1, at: new Date(0) })).toEqual({ a: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(storableResult({ big: 'x'.repeat(9000) })).toEqual({ truncated: true, bytes: 9010 });
    expect(storableResult(undefined)).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(storableResult(cyclic)).toEqual({ unserializable: true });
  });
});
