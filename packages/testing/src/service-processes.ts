import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './paths.ts';

export type ServiceName = 'api' | 'scraper' | 'embedder' | 'aggregator' | 'maintenance';
export const ALL_SERVICES: ServiceName[] = ['api', 'scraper', 'embedder', 'aggregator', 'maintenance'];

export interface ServiceProcess {
  name: ServiceName;
  process: ChildProcess;
  /** The HTTP port: the API's, or the worker's metrics/health port. */
  port: number;
  /** Where its Prometheus /metrics is: the worker's one port, the API's own metrics listener. */
  metricsPort: number;
  logFile: string;
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop: (signal?: NodeJS.Signals) => Promise<number | string | null>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(port: number, child: ChildProcess, name: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during start; see ${logFile}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms; see ${logFile}`);
}

/**
 * Environment every service process gets, as the image sets it (Dockerfile)
 * and `./kbflow up` exports it: two glibc malloc arenas (see the Dockerfile
 * for why). A test's own env still wins.
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The Node.js flags every service runs with, as deployed (config/service-node-flags). */
export function serviceNodeFlags(): string[] {
  return readFileSync(path.join(REPO_ROOT, 'config', 'service-node-flags'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .flatMap((line) => line.trim().split(/\s+/));
}

/**
 * Starts one service as a real process (`node services/<name>/src/main.ts`),
 * its output kept in test-artifacts/, and waits until its /healthz answers.
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  opts: { logDir: string; timeoutMs?: number; instance?: number },
): Promise<ServiceProcess> {
  const port = await freePort();
  let metricsPort = port;
  // (A port just released can come back from the next freePort: ask until it differs.)
  while (name === 'api' && metricsPort === port) metricsPort = await freePort();
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `${name}${opts.instance ? `-${opts.instance}` : ''}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const portEnv = {
    ...(name === 'api' ? { KBFLOW_API_PORT: String(port), KBFLOW_API_HOST: '127.0.0.1' } : {}),
    KBFLOW_METRICS_PORT: String(metricsPort),
    KBFLOW_METRICS_HOST: '127.0.0.1',
  };
  const child = spawn(process.execPath, [...serviceNodeFlags(), path.join(REPO_ROOT, 'services', name, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...SERVICE_ENV, ...env, ...portEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  try {
    await waitForHealth(port, child, name, logFile, opts.timeoutMs ?? 30_000);
  } catch (error) {
    // Nobody holds a handle on a process that never became healthy: it would outlive the test on a shared machine.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  }
  return {
    name,
    process: child,
    port,
    metricsPort,
    logFile,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      log.end();
      return result;
    },
  };
}

export interface Stack {
  apiUrl: string;
  services: Map<ServiceName, ServiceProcess>;
  stop: () => Promise<void>;
}

/** Starts the given services (all five by default) with one shared environment. */
export async function startStack(env: Record<string, string>, opts: { logDir: string; services?: ServiceName[] }): Promise<Stack> {
  const names = opts.services ?? ALL_SERVICES;
  const settled = await Promise.allSettled(names.map((n) => startService(n, env, { logDir: opts.logDir })));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    // The services that did start would outlive the test (and keep jest from exiting).
    await Promise.all(started.map((s) => s.stop('SIGTERM')));
    throw failed.reason;
  }
  const services = new Map(started.map((s) => [s.name, s] as const));
  const api = services.get('api');
  return {
    apiUrl: api ? `http://127.0.0.1:${api.port}` : '',
    services,
    stop: async () => {
      await Promise.all([...services.values()].map((s) => s.stop('SIGTERM')));
    },
  };
}

/** A folder for one test file's logs and screenshots, kept after the run for inspection. */
export function artifactDir(label: string): string {
  return path.join(REPO_ROOT, 'test-artifacts', `${label}-${process.pid}`);
}
