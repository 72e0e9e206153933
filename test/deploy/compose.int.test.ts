// docker-compose.yml and the monitoring it wires (Prometheus, Grafana),
// checked statically: there is no docker engine here. The healthcheck command
// itself runs for real against a local HTTP server.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@kbflow/testing';
import { parse } from 'yaml';
import { dependencies, durationSeconds, loadCompose, serviceEnvironment, type ComposeBuild } from './support/compose.ts';
import { ENV_SCHEMAS, SERVICES } from './support/env-schemas.ts';
import { listeningPort, metricsPort } from './support/workload-checks.ts';

const compose = loadCompose();
const KBFLOW = [...SERVICES, 'migrate'] as const;
const REQUIRED_METRICS = [
  'kbflow_queue_jobs',
  'kbflow_jobs_total',
  'kbflow_job_duration_seconds',
  'kbflow_http_request_duration_seconds',
  'kbflow_dead_letters_total',
  'kbflow_dependency_up',
  'kbflow_vector_drift',
];

function service(name: string) {
  const s = compose.services[name];
  if (!s) throw new Error(`compose has no service ${name}`);
  return s;
}

function dockerfileStages(): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  return [...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1] as string);
}

/** The `node -e` healthcheck of a compose service, and the URL it requests. */
function healthcheckOf(name: string): { argv: string[]; url: URL } {
  const test = service(name).healthcheck?.test;
  if (!Array.isArray(test) || test[0] !== 'CMD') throw new Error(`${name}: healthcheck must be an exec-form ["CMD", ...] array`);
  const argv = test.slice(1);
  const url = /https?:\/\/[^'"\s)]+/.exec(argv.join(' '))?.[0];
  if (!url) throw new Error(`${name}: no URL in its healthcheck`);
  return { argv, url: new URL(url) };
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(status: number): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(status).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('docker-compose.yml', () => {
  it('parses, and every depends_on names a service of the file', () => {
    const names = Object.keys(compose.services);
    expect(names).toEqual(expect.arrayContaining([...KBFLOW, 'redis', 'postgres', 'qdrant', 'prometheus', 'grafana']));
    const dangling = names.flatMap((n) =>
      Object.keys(dependencies(service(n)))
        .filter((d) => !names.includes(d))
        .map((d) => `${n} -> ${d}`),
    );
    expect(dangling).toEqual([]);
  });

  it('every long-running service has a healthcheck; the one-shot migrate is not restarted', () => {
    expect(service('migrate').restart).toBe('no');
    const longRunning = Object.keys(compose.services).filter((n) => service(n).restart !== 'no');
    expect(longRunning.length).toBe(Object.keys(compose.services).length - 1);
    // Prometheus and Grafana are observers nothing depends on; every other long-running service is checked.
    const unchecked = longRunning.filter((n) => !service(n).healthcheck?.test && !['prometheus', 'grafana'].includes(n));
    expect(unchecked).toEqual([]);
  });

  it('the five services and migrate build from the one Dockerfile, the scraper from its Chromium target', () => {
    const stages = dockerfileStages();
    for (const name of KBFLOW) {
      const build = service(name).build as ComposeBuild;
      expect([name, build.context, build.dockerfile]).toEqual([name, '.', 'Dockerfile']);
      expect([name, build.target]).toEqual([name, name === 'scraper' ? 'scraper' : 'runtime']);
      expect(stages).toContain(build.target);
    }
    const images = new Set(KBFLOW.filter((n) => n !== 'scraper').map((n) => service(n).image));
    expect(images.size).toBe(1);
  });

  it('each kbflow service runs its own entrypoint command and starts after the migration completed', () => {
    expect(service('migrate').command).toEqual(['migrate']);
    expect(dependencies(service('migrate')).postgres).toBe('service_healthy');
    for (const name of SERVICES) {
      expect([name, service(name).command]).toEqual([name, [name]]);
      const deps = dependencies(service(name));
      expect([name, deps.migrate, deps.redis, deps.postgres]).toEqual([name, 'service_completed_successfully', 'service_healthy', 'service_healthy']);
    }
  });

  it('each healthcheck requests /healthz on the port its service listens on', () => {
    for (const name of SERVICES) {
      const { url } = healthcheckOf(name);
      const port = listeningPort(name, serviceEnvironment(service(name)));
      expect([name, url.hostname, Number(url.port), url.pathname]).toEqual([name, '127.0.0.1', port, '/healthz']);
    }
  });

  it('the healthcheck command exits 0 on a 200, and 1 on a 503 or when nothing listens', async () => {
    const { argv } = healthcheckOf('embedder');
    expect(argv[0]).toBe('node');
    // Asynchronous: the servers answering it run in this process.
    const run = (port: number) =>
      new Promise<number | null>((resolve, reject) => {
        const args = argv.slice(1).map((a) => a.replace('127.0.0.1:9102', `127.0.0.1:${port}`));
        if (!args.join(' ').includes(`127.0.0.1:${port}/healthz`)) reject(new Error(`port not substituted in ${args.join(' ')}`));
        const child = spawn(process.execPath, args, { stdio: 'ignore', timeout: 15_000 });
        child.once('error', reject);
        child.once('exit', (code) => resolve(code));
      });
    const ok = await serve(200);
    const failing = await serve(503);
    const closed = await serve(200);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await run(ok)).toBe(0);
    expect(await run(failing)).toBe(1);
    expect(await run(closed)).toBe(1);
  });

  it('gives services more time to stop than KBFLOW_SHUTDOWN_TIMEOUT_MS', () => {
    for (const name of SERVICES) {
      const env = serviceEnvironment(service(name));
      const timeoutSeconds = Number(env.KBFLOW_SHUTDOWN_TIMEOUT_MS || ENV_SCHEMAS[name].defaults.KBFLOW_SHUTDOWN_TIMEOUT_MS) / 1000;
      expect([name, durationSeconds(service(name).stop_grace_period ?? '10s') > timeoutSeconds]).toEqual([name, true]);
    }
  });

  it('requires its own admin key (no built-in default) and publishes ports on loopback only', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    // `${VAR:?message}`: compose refuses to start while the variable is unset or empty.
    expect(text).toMatch(/^\s*KBFLOW_ADMIN_API_KEY: \$\{KBFLOW_ADMIN_API_KEY:\?[^}]+\}\s*$/m);
    expect(text).not.toMatch(/dev-(admin-)?key/);
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, String(p)] as const));
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/)]);
  });

  it('runs Redis with AOF and noeviction, PostgreSQL 15 or newer, and Qdrant', () => {
    const redis = service('redis').command;
    expect(Array.isArray(redis) ? redis.join(' ') : redis).toMatch(
      /--appendonly yes.*--maxmemory-policy noeviction|--maxmemory-policy noeviction.*--appendonly yes/,
    );
    expect(Number(/^postgres:(\d+)/.exec(service('postgres').image ?? '')?.[1])).toBeGreaterThanOrEqual(15);
    expect(service('qdrant').image).toMatch(/^qdrant\/qdrant:/);
  });

  it('mounts only files and directories that exist in the repository', () => {
    const missing = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v.split(':')[0]! : (v.source ?? '')))
        .filter((source) => source.startsWith('./') && !existsSync(path.join(REPO_ROOT, source)))
        .map((source) => `${name}: ${source}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('Prometheus and Grafana for compose', () => {
  const prometheusFile = path.join(REPO_ROOT, 'docker/prometheus/prometheus.yml');
  const rulesFile = path.join(REPO_ROOT, 'docker/prometheus/kbflow-alerts.rules.yml');

  it('Prometheus scrapes /metrics of all five services on the ports they listen on', () => {
    const config = parse(readFileSync(prometheusFile, 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((c) => [c.job_name, { path: c.metrics_path ?? '/metrics', targets: c.static_configs.flatMap((s) => s.targets) }]),
    );
    for (const name of SERVICES) {
      const port = metricsPort(name, serviceEnvironment(service(name)));
      expect([name, targets[name]]).toEqual([name, { path: '/metrics', targets: [`${name}:${port}`] }]);
    }
  });

  it('mounts the config and the alert rules where the config expects them', () => {
    const mounts = (service('prometheus').volumes ?? []).filter((v): v is string => typeof v === 'string');
    expect(mounts).toContain('./docker/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const config = parse(readFileSync(prometheusFile, 'utf8')) as { rule_files: string[] };
    for (const rule of config.rule_files) {
      expect(mounts).toContain(`./${path.relative(REPO_ROOT, rulesFile)}:${path.posix.join('/etc/prometheus', rule)}:ro`);
    }
  });

  const itWithPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0 ? it : it.skip;
  itWithPromtool('promtool accepts the config with its rules, and rejects a broken rule', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kbflow-prom-'));
    try {
      copyFileSync(prometheusFile, path.join(dir, 'prometheus.yml'));
      copyFileSync(rulesFile, path.join(dir, 'kbflow-alerts.rules.yml'));
      const ok = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect([ok.status, ok.stdout + ok.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
      const broken = readFileSync(rulesFile, 'utf8').replace(
        'min by (dependency) (kbflow_dependency_up) == 0',
        'min by (dependency (kbflow_dependency_up) == 0',
      );
      const brokenFile = path.join(dir, 'broken.rules.yml');
      writeFileSync(brokenFile, broken);
      const bad = spawnSync('promtool', ['check', 'rules', brokenFile], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Grafana's dashboard charts every kbflow metric through the provisioned Prometheus datasource", () => {
    const datasources = parse(readFileSync(path.join(REPO_ROOT, 'docker/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const prometheus = datasources.datasources.find((d) => d.type === 'prometheus');
    expect(prometheus?.url).toBe('http://prometheus:9090');
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'docker/grafana/dashboards/kbflow.json'), 'utf8')) as {
      uid: string;
      panels: { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }[];
      templating: { list: { name: string; type: string; current?: { value?: string } }[] };
    };
    // Panels query the `datasource` variable (so Kubernetes' Grafana picks its own Prometheus); in compose it defaults to the provisioned one.
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toEqual(expect.objectContaining({ type: 'datasource', current: expect.objectContaining({ value: prometheus?.uid }) }));
    const uidOk = (uid: string | undefined) => uid === prometheus?.uid || uid === '${datasource}';
    const charts = dashboard.panels.filter((p) => p.type !== 'row');
    const exprs = charts.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const metric of REQUIRED_METRICS) expect([metric, exprs.some((e) => e.includes(metric))]).toEqual([metric, true]);
    const foreign = charts.filter((p) => !uidOk(p.datasource?.uid) || (p.targets ?? []).some((t) => t.datasource && !uidOk(t.datasource.uid)));
    expect(foreign.map((p) => p.title)).toEqual([]);
  });

  it("Grafana's dashboard provider reads the directory compose mounts the dashboards into", () => {
    const provider = parse(readFileSync(path.join(REPO_ROOT, 'docker/grafana/provisioning/dashboards/kbflow.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = (service('grafana').volumes ?? []).filter((v): v is string => typeof v === 'string');
    expect(mounts).toContain(`./docker/grafana/dashboards:${provider.providers[0]?.options.path}:ro`);
    expect(mounts).toContain('./docker/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});
