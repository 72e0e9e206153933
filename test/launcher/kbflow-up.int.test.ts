import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createTestDatabase, deletePrefixKeys, freePort, REPO_ROOT, testRedisUrl, uniquePrefix, type TestDatabase } from '@kbflow/testing';

// `./kbflow up` as a user runs it: five services under one launcher. When
// one of them dies, the launcher stops the others and says so (issue 14,
// item 13), instead of leaving a stack that looks up but cannot work.
let database: TestDatabase;
let lanceDir: string;
let prefix: string;
let launcher: ChildProcess | undefined;
let output = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process below `root`, with its command line (from ps: the launcher, concurrently, its shells and the services). */
function descendants(root: number): { pid: number; args: string }[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const found: { pid: number; args: string }[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const row of rows) {
      if (parents.has(row.ppid) && !parents.has(row.pid)) {
        parents.add(row.pid);
        found.push({ pid: row.pid, args: row.args });
        grew = true;
      }
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  database = await createTestDatabase();
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-up-lance-'));
  prefix = uniquePrefix('up');
}, 60_000);

afterAll(async () => {
  if (launcher?.pid && alive(launcher.pid)) {
    for (const p of descendants(launcher.pid)) process.kill(p.pid, 'SIGKILL');
    launcher.kill('SIGKILL');
  }
  await database?.drop();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
  const redis = new Redis(testRedisUrl());
  await deletePrefixKeys(redis, prefix).finally(() => redis.quit());
}, 60_000);

describe('./kbflow up', () => {
  it('stops the whole stack with a message naming the way out when one service dies', async () => {
    const apiPort = await freePort();
    launcher = spawn('bash', [path.join(REPO_ROOT, 'kbflow'), 'up'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        KBFLOW_QUEUE_PREFIX: prefix,
        KBFLOW_LANCEDB_DIR: lanceDir,
        KBFLOW_API_PORT: String(apiPort),
        // Every worker on a port of the kernel's choosing: the defaults may be taken on a test machine.
        KBFLOW_METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => launcher!.once('exit', (code) => resolve(code)));

    // Up: the api answers, and all five services run under the launcher.
    const deadline = Date.now() + 120_000;
    let services: { pid: number; args: string }[];
    for (;;) {
      services = descendants(launcher.pid!).filter((p) => /^node (?:--\S+ +)*services\/\w+\/src\/main\.ts$/.test(p.args));
      const up = await fetch(`http://127.0.0.1:${apiPort}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (up && services.length === 5) break;
      if (Date.now() > deadline)
        throw new Error(`the stack did not come up (api healthy: ${up}; services: ${JSON.stringify(descendants(launcher.pid!))}):\n${output}`);
      await sleep(250);
    }

    const scraper = services.find((p) => p.args.includes('services/scraper/'))!;
    process.kill(scraper.pid, 'SIGKILL');

    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 60_000)))]);
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(output).toMatch(/\[scraper\].*exited with code SIGKILL/);
    expect(output).toContain('a service exited (exit status above, after its name) and the others were stopped with it');
    // Nothing of the stack is left running.
    for (const p of services) expect({ pid: p.pid, args: p.args, alive: alive(p.pid) }).toEqual({ pid: p.pid, args: p.args, alive: false });
  }, 240_000);
});
