import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LanceDbVectorStore } from '../src/index.ts';
import { fixtureId } from './fixtures/fixture-data.ts';

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'upsert-worker.ts');
const BATCHES = 15;
const BATCH_SIZE = 20;
const SHARED = 60;
const DIMS = 32;

interface WorkerReport {
  worker: number;
  written: number;
  firstWriteAt: number;
  lastWriteAt: number;
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbflow-lancedb-xproc-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the worker script in its own Node process (Node 24 strips the types itself). */
function runWorker(args: string[]): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', WORKER_SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerReport);
    });
  });
}

describe('LanceDB shared by several processes', () => {
  it('two processes upserting concurrently into one directory leave exactly every row once', async () => {
    const table = 'xproc_chunks';
    const startAt = String(Date.now() + 1500);
    const common = [String(BATCHES), String(BATCH_SIZE), String(SHARED), String(DIMS), startAt];

    const results = await Promise.all([1, 2].map((w) => runWorker([dir, table, String(w), ...common])));

    expect(results.map((r) => r.written)).toEqual([BATCHES * BATCH_SIZE, BATCHES * BATCH_SIZE]);
    // The writes really overlapped in time; otherwise this would test nothing about concurrency.
    const [one, two] = results as [WorkerReport, WorkerReport];
    expect(one.firstWriteAt).toBeLessThan(two.lastWriteAt);
    expect(two.firstWriteAt).toBeLessThan(one.lastWriteAt);
    const store = new LanceDbVectorStore({ dir, table });
    try {
      expect(await store.count()).toBe(2 * BATCHES * BATCH_SIZE + SHARED);
      for (const worker of [1, 2]) {
        const ids = await store.listIds({ tenantId: `tenant-${worker}` });
        const expected = Array.from({ length: BATCHES * BATCH_SIZE }, (_, n) => fixtureId(worker, n));
        expect(ids.sort()).toEqual(expected.sort());
      }
      const shared = await store.listIds({ tenantId: 'tenant-shared' });
      expect(new Set(shared).size).toBe(SHARED);
      expect(shared).toHaveLength(SHARED);
    } finally {
      await store.close();
    }
  });
});
