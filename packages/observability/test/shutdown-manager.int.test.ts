import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'shutdown-child.ts');

/** Starts the fixture, sends `signals` once it is ready, and collects what it printed and how it ended. */
async function run(scenario: string, signals: NodeJS.Signals[]): Promise<{ steps: string[]; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [CHILD, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('ready\n')) resolve();
    }),
  );
  for (const signal of signals) child.kill(signal);
  const code = await exited;
  return {
    steps: stdout
      .split('\n')
      .filter((l) => l.startsWith('step '))
      .map((l) => l.slice(5)),
    stderr,
    code,
  };
}

describe('ShutdownManager in a real process', () => {
  it('on SIGTERM runs every step once, in registration order, then exits 0', async () => {
    const { steps, code } = await run('ordered', ['SIGTERM']);
    expect(steps).toEqual(['http server', 'workers', 'redis', 'postgres']);
    expect(code).toBe(0);
  }, 30_000);

  it('a failing step is logged and the later steps still run', async () => {
    const { steps, stderr, code } = await run('failing', ['SIGTERM']);
    expect(steps).toEqual(['http server', 'workers', 'queues', 'redis', 'postgres']);
    expect(stderr).toMatch(/"step":"queues".*"msg":"shutdown step failed"/);
    expect(code).toBe(0);
  }, 30_000);

  it('a second signal during shutdown starts no second shutdown', async () => {
    const { steps, stderr, code } = await run('second-signal', ['SIGTERM', 'SIGINT']);
    expect(steps).toEqual(['http server', 'workers', 'redis', 'postgres']);
    expect(stderr).toContain('shutdown already under way');
    expect(code).toBe(0);
  }, 30_000);

  it('a step that never finishes is cut by the deadline: exit 1, later steps not run', async () => {
    const { steps, stderr, code } = await run('deadline', ['SIGTERM']);
    expect(steps).toEqual(['http server', 'workers', 'stuck']);
    expect(stderr).toContain('shutdown deadline passed, exiting');
    expect(code).toBe(1);
  }, 30_000);
});
