// Every environment variable the code reads is documented and set where it
// runs: .env.example (with its default), the compose env anchor, and the
// Kubernetes ConfigMap/Secret. The variables come from the zod schemas
// themselves, so a variable added to a schema fails here until documented.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { EnvError, PROFILE_ROWS } from '@kbflow/config';
import { REPO_ROOT } from '@kbflow/testing';
import { loadEnv as loadApiEnv } from '../../services/api/src/env.ts';
import { loadCompose, serviceEnvironment } from './support/compose.ts';
import { ENV_SCHEMAS, SERVICES, WORKERS, allProgramKeys, cliKeys, isSecretKey, undocumented, type Program } from './support/env-schemas.ts';
import { K8S_DIR, configValues, containerEnvironment, isPodOwner, named, sourceManifests, type PodTemplateOwner } from './support/k8s-manifests.ts';
import { mainContainer } from './support/workload-checks.ts';

const ENV_EXAMPLE = path.join(REPO_ROOT, '.env.example');

/** .env.example's assignments, in order, with the line above each. */
function envExampleLines(): { key: string; line: number; above: string }[] {
  const lines = readFileSync(ENV_EXAMPLE, 'utf8').split('\n');
  return lines.flatMap((text, i) => {
    const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(text)?.[1];
    return key ? [{ key, line: i + 1, above: lines[i - 1] ?? '' }] : [];
  });
}

/** .env.example as the launcher reads it (`set -a; . .env` in bash): the values the processes see. */
function envExampleValues(): Record<string, string> {
  const run = spawnSync('bash', ['-c', 'set -a; . "$1"; env -0', 'bash', ENV_EXAMPLE], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`bash could not source .env.example: ${run.stderr}`);
  const keys = new Set(envExampleLines().map((l) => l.key));
  return Object.fromEntries(
    run.stdout
      .split('\0')
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const)
      .filter(([key]) => keys.has(key)),
  );
}

/**
 * The schemas' defaults, per variable; undefined where schemas disagree
 * (per-service defaults), none has one, or KBFLOW_PROFILE decides it (those
 * are left empty everywhere so that the profile applies).
 */
function sharedDefaults(): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  const profiled = new Set(PROFILE_ROWS.map((r) => r.variable));
  for (const key of allProgramKeys()) {
    if (profiled.has(key)) {
      result[key] = undefined;
      continue;
    }
    const defaults = new Set(
      Object.values(ENV_SCHEMAS)
        .filter((s) => s.keys.includes(key))
        .map((s) => s.defaults[key]),
    );
    result[key] = defaults.size === 1 ? [...defaults][0] : undefined;
  }
  return result;
}

const k8sObjects = sourceManifests(path.join(K8S_DIR, 'base')).map((m) => m.obj);
const configMap = configValues(
  named(
    k8sObjects.filter((o) => o.kind === 'ConfigMap'),
    'kbflow-config',
  ),
);
const secret = configValues(
  named(
    k8sObjects.filter((o) => o.kind === 'Secret'),
    'kbflow-secrets',
  ),
);

/** Each program's container in Kubernetes: the service Deployments' main containers and the migrate Job's. */
function k8sContainers(): { program: Program; env: Record<string, string>; own: Set<string> }[] {
  const owners = k8sObjects.filter(isPodOwner);
  const entries = SERVICES.map((service) => {
    const container = mainContainer(named(owners, service));
    return { program: service as Program, container };
  });
  const job = named(owners as PodTemplateOwner[], 'migrate');
  entries.push({ program: 'migrate', container: job.spec.template.spec.containers[0]! });
  return entries.map(({ program, container }) => ({
    program,
    env: containerEnvironment(container, k8sObjects),
    own: new Set((container.env ?? []).map((e) => e.name)),
  }));
}

const compose = loadCompose();
const composeAnchor = (compose['x-kbflow-env'] ?? {}) as Record<string, unknown>;

/**
 * Variables that differ between a local run (.env.example), compose and
 * Kubernetes on purpose: where the infrastructure is, whether it is
 * production, which vector store, whether to create the database, and keys.
 */
const DEPLOYMENT_SPECIFIC = new Set([
  'NODE_ENV',
  'DATABASE_URL',
  'REDIS_URL',
  'KBFLOW_VECTOR_STORE',
  'QDRANT_URL',
  'KBFLOW_CREATE_DATABASE',
  'KBFLOW_DEV_API_KEY',
  'KBFLOW_ADMIN_API_KEY',
  // Loopback for a local run; every interface inside a container.
  'KBFLOW_API_HOST',
  'KBFLOW_METRICS_HOST',
]);

describe('.env.example', () => {
  it("is valid for the launcher's `set -a; . .env`, and every variable has a comment above it", () => {
    const lines = envExampleLines();
    expect(lines.length).toBeGreaterThan(30);
    expect(Object.keys(envExampleValues()).sort()).toEqual(lines.map((l) => l.key).sort());
    expect(lines.filter((l) => !l.above.startsWith('# ')).map((l) => `line ${l.line}: ${l.key}`)).toEqual([]);
    expect(new Set(lines.map((l) => l.key)).size).toBe(lines.length);
  });

  it('lists every variable a service or the migration reads', () => {
    expect(undocumented(allProgramKeys(), Object.keys(envExampleValues()))).toEqual([]);
  });

  it('gives each variable the default of its schema; empty where there is none or it differs per service', () => {
    const values = envExampleValues();
    const defaults = sharedDefaults();
    const wrong = allProgramKeys()
      .filter((key) => values[key] !== (defaults[key] ?? ''))
      .map((key) => `${key}=${JSON.stringify(values[key])}, expected ${JSON.stringify(defaults[key] ?? '')}`);
    expect(wrong).toEqual([]);
    // Sourced as a whole, the file is a valid environment for every program.
    for (const [program, schema] of Object.entries(ENV_SCHEMAS)) expect([program, schema.problems(values)]).toEqual([program, []]);
  });

  it('lists the CLI variables in its CLI section, and nothing the code does not read', () => {
    const lines = envExampleLines();
    const cliHeading = readFileSync(ENV_EXAMPLE, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith('# CLI'));
    expect(cliHeading).toBeGreaterThan(0);
    const cliSection = lines.filter((l) => l.line > cliHeading).map((l) => l.key);
    // KBFLOW_DEV_API_KEY is the api's too, and documented with it.
    const cliOnly = cliKeys().filter((k) => !allProgramKeys().includes(k));
    expect(cliOnly.sort()).toEqual(['KBFLOW_API_KEY', 'KBFLOW_API_URL']);
    expect(undocumented(cliOnly, cliSection)).toEqual([]);
    expect(
      undocumented(
        cliKeys(),
        lines.map((l) => l.key),
      ),
    ).toEqual([]);
    expect(
      undocumented(
        lines.map((l) => l.key),
        allProgramKeys(),
        cliKeys(),
      ),
    ).toEqual([]);
  });

  it('leaves every secret blank', () => {
    const values = envExampleValues();
    const secrets = Object.keys(values).filter(isSecretKey);
    expect(secrets.sort()).toEqual(['KBFLOW_ADMIN_API_KEY', 'KBFLOW_API_KEY', 'KBFLOW_DEV_API_KEY', 'OPENAI_API_KEY', 'QDRANT_API_KEY']);
    expect(secrets.filter((k) => values[k] !== '')).toEqual([]);
  });

  it('a variable added to a schema is reported until it is documented', () => {
    const documented = Object.keys(envExampleValues());
    expect(undocumented([...allProgramKeys(), 'KBFLOW_NEW_KNOB'], documented)).toEqual(['KBFLOW_NEW_KNOB']);
    expect(undocumented([...allProgramKeys(), 'KBFLOW_NEW_KNOB'], documented, ['KBFLOW_NEW_KNOB'])).toEqual([]);
  });
});

describe('Kubernetes ConfigMap and Secret', () => {
  it('hold every variable any program reads, except per-worker ones that every worker Deployment sets itself', () => {
    const perWorker = new Set(['KBFLOW_METRICS_PORT', 'KBFLOW_WORKER_CONCURRENCY']);
    expect(undocumented(allProgramKeys(), Object.keys(configMap), Object.keys(secret), perWorker)).toEqual([]);
    for (const { program, own } of k8sContainers().filter((c) => (WORKERS as readonly string[]).includes(c.program))) {
      expect([program, [...perWorker].filter((k) => !own.has(k))]).toEqual([program, []]);
    }
  });

  it("give each Deployment and the migrate Job every variable of its program's schema", () => {
    for (const { program, env } of k8sContainers()) {
      expect([program, undocumented(ENV_SCHEMAS[program].keys, Object.keys(env))]).toEqual([program, []]);
    }
  });

  it("make an environment each program's schema accepts once the Secret's placeholders are filled in, with Qdrant as the vector store", () => {
    // What an operator does before the first apply (k8s/README.md): every REPLACE_ME becomes a generated secret.
    const filled = (env: Record<string, string>) =>
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll('REPLACE_ME', 'c0ffee5eed9a4b7e8f1d2c3b4a5968778695a4b3c2d1e0f9')]));
    for (const { program, env } of k8sContainers()) {
      expect([program, ENV_SCHEMAS[program].problems(filled(env))]).toEqual([program, []]);
      if (ENV_SCHEMAS[program].keys.includes('KBFLOW_VECTOR_STORE')) {
        expect([program, env.KBFLOW_VECTOR_STORE, env.QDRANT_URL]).toEqual([program, 'qdrant', 'http://qdrant:6333']);
      }
    }
    expect(configMap.NODE_ENV).toBe('production');
    expect(configMap.KBFLOW_CREATE_DATABASE).toBe('false');
  });

  it('hold only variables the code reads; credentials only in the Secret, and there only as placeholders', () => {
    expect(undocumented([...Object.keys(configMap), ...Object.keys(secret)], allProgramKeys())).toEqual([]);
    expect(Object.keys(configMap).filter((k) => k in secret)).toEqual([]);
    expect(Object.keys(configMap).filter(isSecretKey)).toEqual([]);
    expect(Object.keys(configMap).filter((k) => /:\/\/[^/@]+:[^/@]+@/.test(configMap[k] ?? ''))).toEqual([]);
    expect(Object.entries(secret).filter(([, v]) => v !== '' && !v.includes('REPLACE_ME'))).toEqual([]);
    expect(secret.KBFLOW_DEV_API_KEY).toBe('');
  });

  it("as applied unedited, stop the api at start: the Secret's placeholder admin key is refused in production", () => {
    let error: unknown;
    try {
      loadApiEnv({ ...configMap, ...secret });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).issues).toContainEqual(expect.stringMatching(/^KBFLOW_ADMIN_API_KEY: looks like a placeholder/));
  });
});

describe('docker-compose environment', () => {
  const kbflowServices = [...SERVICES, 'migrate'] as const;

  it('the x-kbflow-env anchor holds every variable, except per-worker ones that every worker sets', () => {
    const perWorker = new Set(['KBFLOW_METRICS_PORT', 'KBFLOW_WORKER_CONCURRENCY']);
    expect(undocumented(allProgramKeys(), Object.keys(composeAnchor), perWorker)).toEqual([]);
    for (const worker of WORKERS) {
      const env = compose.services[worker]?.environment as Record<string, unknown>;
      expect([worker, [...perWorker].filter((k) => !(k in env))]).toEqual([worker, []]);
    }
    expect(undocumented(Object.keys(composeAnchor), allProgramKeys())).toEqual([]);
  });

  it("each kbflow container's environment is accepted by its schema and points at the compose services", () => {
    for (const name of kbflowServices) {
      const service = compose.services[name];
      expect(service).toBeDefined();
      const env = serviceEnvironment(service!);
      expect([name, undocumented(ENV_SCHEMAS[name].keys, Object.keys(env))]).toEqual([name, []]);
      expect([name, ENV_SCHEMAS[name].problems(env)]).toEqual([name, []]);
      expect(new URL(env.DATABASE_URL ?? '').hostname).toBe('postgres');
      expect(new URL(env.REDIS_URL ?? '').hostname).toBe('redis');
      expect([env.KBFLOW_VECTOR_STORE, env.QDRANT_URL]).toEqual(['qdrant', 'http://qdrant:6333']);
    }
  });

  it('a shell or .env cannot redirect the infrastructure, only override tunables and keys', () => {
    const hostile = { DATABASE_URL: 'postgresql://x@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1', OPENAI_API_KEY: 'sk-from-env' };
    const env = serviceEnvironment(compose.services.embedder!, hostile);
    expect([env.DATABASE_URL, env.REDIS_URL, env.OPENAI_API_KEY]).toEqual([
      'postgresql://kbflow:kbflow@postgres:5432/kbflow',
      'redis://redis:6379',
      'sk-from-env',
    ]);
  });
});

describe('the three places agree', () => {
  it('on every value that is not deployment-specific', () => {
    const example = envExampleValues();
    const anchor = serviceEnvironment({ environment: composeAnchor as Record<string, string> });
    const k8s = { ...configMap, ...secret };
    const disagreements = allProgramKeys()
      .filter((key) => !DEPLOYMENT_SPECIFIC.has(key) && key in anchor && key in k8s)
      .filter((key) => !(example[key] === anchor[key] && anchor[key] === k8s[key]))
      .map((key) => `${key}: .env.example ${JSON.stringify(example[key])}, compose ${JSON.stringify(anchor[key])}, k8s ${JSON.stringify(k8s[key])}`);
    expect(disagreements).toEqual([]);
  });
});
