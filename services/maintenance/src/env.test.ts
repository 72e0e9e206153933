import { describe, expect, it } from '@jest/globals';
import { loadEnv, scheduleConfig } from './env.ts';

describe('maintenance env', () => {
  it('defaults every schedule: health check 15m, compaction 10m, case sync 30m, knowledge 2h, sweep 1h', () => {
    expect(scheduleConfig(loadEnv({}))).toEqual({
      'health-check': '15m',
      'compact-vector-store': '10m',
      'case-sync': '30m',
      'generate-knowledge': '2h',
      'vectorization-sweep': '1h',
    });
    expect(loadEnv({}).KBFLOW_SWEEP_GRACE_MS).toBe(600_000);
    expect(loadEnv({}).KBFLOW_TASK_REAPER_GRACE_MS).toBe(900_000);
  });

  it('takes intervals and cron patterns, and stops on a bad one naming the variable', () => {
    const env = loadEnv({ KBFLOW_CASE_SYNC_SCHEDULE: '*/5 * * * *', KBFLOW_SWEEP_SCHEDULE: '90000' });
    expect([env.KBFLOW_CASE_SYNC_SCHEDULE, env.KBFLOW_SWEEP_SCHEDULE]).toEqual(['*/5 * * * *', '90000']);
    expect(() => loadEnv({ KBFLOW_KNOWLEDGE_SCHEDULE: 'every day', KBFLOW_SWEEP_SCHEDULE: '99 * * * *' })).toThrow(
      expect.objectContaining({
        issues: [
          expect.stringMatching(/^KBFLOW_KNOWLEDGE_SCHEDULE: must be an interval/),
          expect.stringMatching(/^KBFLOW_SWEEP_SCHEDULE: invalid cron pattern/),
        ],
      }),
    );
  });

  it('names the replacement of a renamed variable instead of ignoring it', () => {
    expect(() => loadEnv({ KBFLOW_HEALTH_CHECK_EVERY_MS: '1500' })).toThrow(
      expect.objectContaining({ issues: [expect.stringMatching(/^KBFLOW_HEALTH_CHECK_EVERY_MS: renamed to KBFLOW_HEALTH_CHECK_SCHEDULE/)] }),
    );
  });
});
