// createWorkerRuntime in a real process against the real Redis and
// PostgreSQL: what it builds serves readiness and the heartbeat, runs jobs
// through the typed producer, and on SIGTERM closes in its fixed order.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, deletePrefixKeys, testRedisUrl, uniquePrefix, type TestDatabase } from '@kbflow/testing';
import { createRedis, listWorkers, type Redis } from '../src/index.ts';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'worker-runtime-child.ts');

let database: TestDatabase;
const children: ChildProcess[] = [];
let redis: Redis;
const prefix = uniquePrefix('runtime');

beforeAll(async () => {
  database = await createTestDatabase();
  redis = createRedis(testRedisUrl());
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await deletePrefixKeys(redis, prefix);
  await redis.quit();
  await database?.drop();
}, 60_000);

describe('createWorkerRuntime', () => {
  it('builds a worker service that is ready, heartbeats, runs a job, and on SIGTERM closes in order', async () => {
    const child = spawn(process.execPath, [CHILD, database.url, testRedisUrl(), prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const ready = /^ready (\d+)$/m.exec(stdout);
        if (ready) resolve(Number(ready[1]));
      });
      void exited.then((code) => reject(new Error(`the child exited (${code}) before it was ready:\n${stdout}`)));
    });

    const readiness = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    expect(readiness.status).toBe('ok');
    expect(readiness.checks).toEqual({ redis: 'ok', postgres: 'ok', probe: 'ok' });

    const workers = await listWorkers(redis, prefix);
    expect(workers.map((w) => [w.service, w.concurrency])).toEqual([['runtime-probe', { maintenance: 3 }]]);

    for (let i = 0; i < 100 && !stdout.includes('ran probe-1\n'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain('ran probe-1\n');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const steps = stdout
      .split('\n')
      .filter((line) => line.includes('"msg":"shutdown step done"'))
      .map((line) => (JSON.parse(line) as { step: string }).step);
    expect(steps).toEqual(['health server', 'heartbeat', 'workers', 'queues', 'probe clients', 'postgres', 'redis']);
  }, 60_000);
});
