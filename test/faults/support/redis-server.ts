import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { createRedis } from '@kbflow/queues';
import { freePort } from '@kbflow/testing';
import { sleep, withDeadline } from './fault-stack.ts';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * A redis-server owned by one test, persisting every write to an append-only
 * file as production's Redis is configured (docker-compose.yml and
 * k8s/base/redis.yaml: `--appendonly yes` with Redis's default
 * `appendfsync everysec`, `noeviction`), so that it can be stopped (or
 * killed) and started again on the same port and directory with its data
 * loaded back.
 */
export class TestRedisServer {
  readonly port: number;
  readonly dir: string;
  private readonly logFile: string;
  private child: ChildProcess | undefined;

  private constructor(port: number, dir: string, logFile: string) {
    this.port = port;
    this.dir = dir;
    this.logFile = logFile;
  }

  /** Starts redis-server on a free port with its data in `dir` and its log beside the test's. */
  static async start(dir: string, logDir: string): Promise<TestRedisServer> {
    const server = new TestRedisServer(await freePort(), dir, path.join(logDir, 'redis-server.log'));
    await server.startAgain();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (again), loading the AOF in `dir`, and waits until it answers PING. */
  async startAgain(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--dir',
        this.dir,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}; see ${this.logFile}`);
      if (await this.answers()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within ${START_TIMEOUT_MS} ms; see ${this.logFile}`);
      await sleep(50);
    }
  }

  /** SIGTERM: Redis flushes the AOF and exits. Resolves with the exit code. */
  async stop(): Promise<number | string | null> {
    const child = this.child;
    if (!child) return null;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGTERM');
    const result = await withDeadline(exited, STOP_TIMEOUT_MS);
    if (typeof result === 'symbol') {
      child.kill('SIGKILL');
      return exited;
    }
    return result;
  }

  /**
   * SIGKILL: no shutdown, no last AOF flush. With `appendfsync everysec`
   * what Redis had not yet handed to the kernel is lost; the process's death
   * alone loses nothing already written to the file (the kernel keeps it).
   * Resolves once it is gone.
   */
  async kill(): Promise<string | number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGKILL');
    return exited;
  }

  /**
   * The append-only file Redis is writing now (Redis 7's multi-part AOF:
   * the last `type i` file of the manifest in `appendonlydir/`) and its size.
   */
  aofTail(): { file: string; bytes: number } {
    const aofDir = path.join(this.dir, 'appendonlydir');
    const manifest = readFileSync(path.join(aofDir, 'appendonly.aof.manifest'), 'utf8');
    const incr = manifest
      .split('\n')
      .map((line) => /^file (\S+) seq \d+ type i$/.exec(line.trim())?.[1])
      .filter((name): name is string => name !== undefined)
      .at(-1);
    if (!incr) throw new Error(`no incremental AOF in ${aofDir}: ${manifest}`);
    const file = path.join(aofDir, incr);
    return { file, bytes: statSync(file).size };
  }

  /**
   * Cuts the AOF back to `bytes` while the server is down: the writes after
   * that point were never synced to the disk (with `everysec`, what a power
   * cut loses). A cut in the middle of a command is what
   * `aof-load-truncated yes` (the default) loads up to.
   */
  truncateAof(tail: { file: string; bytes: number }): number {
    if (this.child) throw new Error('redis-server is running');
    const before = statSync(tail.file).size;
    truncateSync(tail.file, tail.bytes);
    return before - tail.bytes;
  }

  /** The number of keys under a prefix (to tell that data survived a restart). */
  async countKeys(pattern: string): Promise<number> {
    const redis = createRedis(this.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      return (await redis.keys(pattern)).length;
    } finally {
      redis.disconnect();
    }
  }

  private async answers(): Promise<boolean> {
    const redis = createRedis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      redis.disconnect();
    }
  }
}
