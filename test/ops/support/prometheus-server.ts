import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@kbflow/testing';

/** One instant-vector sample from the Prometheus HTTP API. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  logFile: string;
  /** Evaluates a PromQL expression now (`/api/v1/query`); throws on an API error. */
  query: (expr: string) => Promise<PromSample[]>;
  /** The value of an expression that yields at most one sample (`sum(...)`), 0 when it yields none. */
  value: (expr: string) => Promise<number>;
  stop: () => Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

/**
 * The `prometheus` binary, or an error that says how to get it. `./kbflow
 * test` installs Debian's package when it can; a missing binary fails the
 * test that needs it rather than skipping it, so a run without Prometheus
 * never passes as if it had been checked.
 */
export function prometheusBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error('prometheus is not on PATH: apt-get install -y prometheus (./kbflow test installs it when run as root)');
}

/**
 * The scrape configuration: one job per service, named after it, as in the
 * compose Prometheus (docker/prometheus/prometheus.yml). kbflow's metrics
 * name a BullMQ job `job_name`, so nothing clashes with the target's `job`.
 */
export function scrapeConfig(targets: Record<string, number>, scrapeIntervalSeconds: number): string {
  const jobs = Object.entries(targets).map(([name, port]) =>
    [
      `  - job_name: ${name}`,
      `    scrape_interval: ${scrapeIntervalSeconds}s`,
      `    scrape_timeout: ${scrapeIntervalSeconds}s`,
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${port}"]`,
    ].join('\n'),
  );
  return ['global:', `  scrape_interval: ${scrapeIntervalSeconds}s`, `  evaluation_interval: ${scrapeIntervalSeconds}s`, 'scrape_configs:', ...jobs, ''].join(
    '\n',
  );
}

/**
 * Starts a real Prometheus server on 127.0.0.1 that scrapes the given
 * targets (job name → port), with its configuration and TSDB in a temporary
 * directory removed by `stop()`, its output kept in `logDir`, and waits
 * until `/-/ready` answers.
 */
export async function startPrometheus(targets: Record<string, number>, opts: { logDir: string; scrapeIntervalSeconds?: number }): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'kbflow-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, scrapeConfig(targets, opts.scrapeIntervalSeconds ?? 1));
  const port = await freePort();
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, 'prometheus.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    bin,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForReady(url, child, logFile);
  } catch (error) {
    await stop();
    throw error;
  }

  const query = async (expr: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`Prometheus query ${expr} failed: ${body.error ?? res.status}`);
    if (body.data.resultType !== 'vector') throw new Error(`Prometheus query ${expr} returned a ${body.data.resultType}, not a vector`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  const value = async (expr: string): Promise<number> => {
    const samples = await query(expr);
    if (samples.length > 1) throw new Error(`Prometheus query ${expr} returned ${samples.length} samples; wrap it in sum()`);
    return samples[0]?.value ?? 0;
  };

  return { url, logFile, query, value, stop };
}

async function waitForReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} during start; see ${logFile}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus was not ready within ${READY_TIMEOUT_MS} ms; see ${logFile}`);
}
