import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { booleanFromString, commonEnvShape } from './common-env.ts';
import { EnvError, parseEnv } from './parse-env.ts';
import { workerEnvShape } from './service-env.ts';

const schema = z.object({ ...commonEnvShape, ...workerEnvShape(9101, 8), FLAG: booleanFromString.default(false) });

function issues(source: Record<string, string>): string[] {
  try {
    parseEnv(schema, source);
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
  return [];
}

describe('parseEnv', () => {
  it('applies the defaults of an empty environment', () => {
    const env = parseEnv(schema, {});
    expect([env.NODE_ENV, env.REDIS_URL, env.KBFLOW_METRICS_PORT, env.KBFLOW_WORKER_CONCURRENCY, env.FLAG]).toEqual([
      'development',
      'redis://127.0.0.1:6379',
      9101,
      8,
      false,
    ]);
  });

  it('lists every invalid key at once, one line each, and never prints a value', () => {
    const secretLooking = 'postgres://user:hunter2@db/x?not-a-url';
    const found = issues({ REDIS_URL: secretLooking, LOG_LEVEL: 'loud', KBFLOW_WORKER_CONCURRENCY: '0', FLAG: 'maybe', KBFLOW_JOB_ATTEMPTS: 'embed:5' });
    expect(found.map((line) => line.split(':')[0]).sort()).toEqual(['FLAG', 'KBFLOW_JOB_ATTEMPTS', 'KBFLOW_WORKER_CONCURRENCY', 'LOG_LEVEL', 'REDIS_URL']);
    expect(found.join('\n')).not.toContain('hunter2');
    expect(new EnvError(found).message).toMatch(/^invalid environment:\n {2}- /);
  });

  it('takes an empty string as unset, as compose and Kubernetes render absent values', () => {
    expect(parseEnv(schema, { KBFLOW_WORKER_CONCURRENCY: '', LOG_LEVEL: '' }).KBFLOW_WORKER_CONCURRENCY).toBe(8);
  });

  it('parses booleans and per-queue attempts strictly', () => {
    expect(parseEnv(schema, { FLAG: 'yes', KBFLOW_JOB_ATTEMPTS: 'embed=5,scrape=2' })).toMatchObject({
      FLAG: true,
      KBFLOW_JOB_ATTEMPTS: { embed: 5, scrape: 2 },
    });
    expect(issues({ FLAG: 'TRUE' })).toEqual([expect.stringMatching(/^FLAG: /)]);
  });
});
