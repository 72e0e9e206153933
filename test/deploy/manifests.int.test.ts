// The Kubernetes manifests under k8s/, validated offline: every document
// against the Kubernetes 1.30 / CRD JSON schemas (source files and, when
// kubectl is installed, the `kubectl kustomize` output), then the properties
// the services depend on: grace periods, probes, ports, security, autoscaling.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { REPO_ROOT } from '@kbflow/testing';
import { WORKERS } from './support/env-schemas.ts';
import {
  K8S_DIR,
  filesUsedByKustomizations,
  isPodOwner,
  kubectlAvailable,
  loadYamlDocuments,
  named,
  ofKind,
  renderKustomization,
  sourceManifests,
  yamlFilesUnder,
  type PodTemplateOwner,
} from './support/k8s-manifests.ts';
import { K8sSchemaValidator, type K8sObject } from './support/k8s-schema-validator.ts';
import {
  deploymentsOf,
  gracePeriodProblems,
  mainContainer,
  probeProblems,
  resourceProblems,
  securityProblems,
  selectionProblems,
} from './support/workload-checks.ts';

const validator = new K8sSchemaValidator();
const BASE_DIR = path.join(K8S_DIR, 'base');
const KEDA_DIR = path.join(K8S_DIR, 'components', 'keda');
const HPA_DIR = path.join(K8S_DIR, 'components', 'hpa-cpu');
const HPA_OVERLAY_DIR = path.join(K8S_DIR, 'overlays', 'hpa-cpu');

const base = sourceManifests(BASE_DIR).map((m) => m.obj);
const itWithKubectl = kubectlAvailable() ? it : it.skip;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kbflow-deploy-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function validationProblems(objs: { label: string; obj: unknown }[]): string[] {
  return objs.flatMap(({ label, obj }) => validator.validate(obj).map((p) => `${label}: ${p}`));
}

function label(obj: K8sObject): string {
  return `${String(obj.kind)}/${String(obj.metadata?.name)}`;
}

/** The queues a worker consumes, read from its main.ts (`queue: QueueName.x`). */
function consumedQueues(worker: string): string[] {
  const source = readFileSync(path.join(REPO_ROOT, 'services', worker, 'src', 'main.ts'), 'utf8');
  return [...source.matchAll(/queue:\s*QueueName\.(\w+)/g)].map((m) => QueueName[m[1] as keyof typeof QueueName]);
}

interface ScaledObject extends K8sObject {
  metadata: { name: string };
  spec: {
    scaleTargetRef: { name: string; kind?: string };
    minReplicaCount?: number;
    triggers: { type: string; metricType?: string; metadata: Record<string, string> }[];
  };
}
interface Hpa extends K8sObject {
  spec: { scaleTargetRef: { kind: string; name: string }; metrics?: { type: string; resource?: { name: string } }[] };
}

/** The autoscalers targeting each Deployment, by Deployment name. */
function autoscalersByTarget(objs: K8sObject[]): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  const add = (target: string, what: string) => byTarget.set(target, [...(byTarget.get(target) ?? []), what]);
  for (const so of ofKind<ScaledObject>(objs, 'ScaledObject')) add(so.spec.scaleTargetRef.name, `ScaledObject/${so.metadata.name}`);
  for (const hpa of ofKind<Hpa>(objs, 'HorizontalPodAutoscaler')) {
    if (hpa.spec.scaleTargetRef.kind === 'Deployment') add(hpa.spec.scaleTargetRef.name, `HPA/${String(hpa.metadata?.name)}`);
  }
  return byTarget;
}

describe('Kubernetes manifests against the JSON schemas', () => {
  it('every document of every manifest file under k8s/ validates against the schema of its kind', () => {
    const sources = sourceManifests(K8S_DIR);
    expect(sources.length).toBeGreaterThanOrEqual(40);
    const problems = validationProblems(sources.map(({ file, obj }) => ({ label: `${path.relative(REPO_ROOT, file)} ${label(obj)}`, obj })));
    expect(problems).toEqual([]);
  });

  it('every YAML file under k8s/ is a kustomization, a resource of one, or a generator input', () => {
    const { manifests, generatorInputs } = filesUsedByKustomizations(K8S_DIR);
    const orphans = yamlFilesUnder(K8S_DIR).filter((f) => path.basename(f) !== 'kustomization.yaml' && !manifests.has(f) && !generatorInputs.has(f));
    expect(orphans.map((f) => path.relative(REPO_ROOT, f))).toEqual([]);
  });

  it('rejects a Deployment with a misspelled field, a string port and a nameless container, and a kind without a schema', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'broken.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: broken',
        'spec:',
        '  replica: 2',
        '  selector:',
        '    matchLabels: {app: broken}',
        '  template:',
        '    metadata:',
        '      labels: {app: broken}',
        '    spec:',
        '      containers:',
        '        - image: kbflow',
        '          ports:',
        '            - containerPort: "8080"',
        '---',
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata:',
        '  name: no-schema-for-me',
        '',
      ].join('\n'),
    );
    const problems = validationProblems(sourceManifests(dir).map(({ obj }) => ({ label: label(obj), obj })));
    expect(problems).toEqual(
      expect.arrayContaining([
        "Deployment/broken: /spec must NOT have additional properties 'replica'",
        "Deployment/broken: /spec/template/spec/containers/0 must have required property 'name'",
        'Deployment/broken: /spec/template/spec/containers/0/ports/0/containerPort must be integer',
        expect.stringMatching(/^NetworkPolicy\/no-schema-for-me: \/ no schema for networking\.k8s\.io\/v1 NetworkPolicy/),
      ]),
    );
    // The CRD schemas are enforced too: a ScaledObject trigger needs a type.
    expect(
      validator.validate({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'x' },
        spec: { scaleTargetRef: { name: 'x' }, triggers: [{ metadata: {} }] },
      }),
    ).toEqual(["/spec/triggers/0 must have required property 'type'"]);
  });

  itWithKubectl('kubectl kustomize k8s/ renders objects that all validate, every namespaced one in kbflow', () => {
    const rendered = renderKustomization(K8S_DIR);
    expect(rendered.length).toBeGreaterThanOrEqual(35);
    expect(validationProblems(rendered.map((obj) => ({ label: label(obj), obj })))).toEqual([]);
    const outside = rendered.filter((o) => o.kind !== 'Namespace' && o.metadata?.namespace !== 'kbflow').map(label);
    expect(outside).toEqual([]);
    const withoutPartOf = rendered.filter((o) => o.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'kbflow').map(label);
    expect(withoutPartOf).toEqual([]);
  });

  itWithKubectl('the rendered Kustomization passes the same workload checks as the source files', () => {
    const rendered = renderKustomization(K8S_DIR);
    expect([
      ...gracePeriodProblems(rendered),
      ...probeProblems(rendered),
      ...securityProblems(rendered),
      ...resourceProblems(rendered),
      ...selectionProblems(rendered),
    ]).toEqual([]);
  });

  itWithKubectl('k8s/ scales each worker by one KEDA ScaledObject; overlays/hpa-cpu by one CPU HPA instead', () => {
    for (const [dir, expected] of [
      [K8S_DIR, 'ScaledObject'],
      [HPA_OVERLAY_DIR, 'HPA'],
    ] as const) {
      const rendered = renderKustomization(dir);
      expect(validationProblems(rendered.map((obj) => ({ label: label(obj), obj })))).toEqual([]);
      const byTarget = autoscalersByTarget(rendered);
      for (const worker of WORKERS) expect([worker, byTarget.get(worker)]).toEqual([worker, [`${expected}/${worker}`]]);
      expect(byTarget.get('api')).toBeUndefined();
    }
  });

  itWithKubectl('a kustomization that includes a broken manifest renders, and its output is rejected', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: kbflow\nresources:\n  - svc.yaml\n',
    );
    writeFileSync(
      path.join(dir, 'svc.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {app: api}\n  ports:\n    - name: http\n      prot: 8080\n',
    );
    const rendered = renderKustomization(dir);
    expect(validationProblems(rendered.map((obj) => ({ label: label(obj), obj })))).toEqual([
      "Service/api: /spec/ports/0 must have required property 'port'",
      "Service/api: /spec/ports/0 must NOT have additional properties 'prot'",
    ]);
  });
});

describe('kbflow workloads', () => {
  it('the five services each have a Deployment, and the migration a Job', () => {
    expect(
      deploymentsOf(base)
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['aggregator', 'api', 'embedder', 'maintenance', 'scraper']);
    expect(ofKind(base, 'Job').map((j) => j.metadata?.name)).toEqual(['migrate']);
  });

  it("each Deployment's grace period exceeds KBFLOW_SHUTDOWN_TIMEOUT_MS from the ConfigMap plus its preStop pause", () => {
    expect(gracePeriodProblems(base)).toEqual([]);
    // Proof the check can fail: a grace period equal to the shutdown deadline.
    const broken = structuredClone(base);
    const embedder = named(deploymentsOf(broken), 'embedder');
    embedder.spec.template.spec.terminationGracePeriodSeconds = 25;
    expect(gracePeriodProblems(broken)).toEqual([
      'Deployment embedder: terminationGracePeriodSeconds 25 must exceed 25 (KBFLOW_SHUTDOWN_TIMEOUT_MS 25000 ms + preStop 0 s)',
    ]);
  });

  it('liveness probes /healthz and readiness /readyz on the container port the service listens on', () => {
    expect(probeProblems(base)).toEqual([]);
    // Proof the check can fail: the scraper told to listen elsewhere than its declared port.
    const broken = structuredClone(base);
    const scraper = mainContainer(named(deploymentsOf(broken), 'scraper'));
    scraper.env = (scraper.env ?? []).map((e) => (e.name === 'KBFLOW_METRICS_PORT' ? { ...e, value: '9999' } : e));
    expect(probeProblems(broken)).toEqual(expect.arrayContaining(['Deployment scraper: no containerPort 9999, the port its environment makes it listen on']));
  });

  it('every pod runs non-root with no privilege escalation, all capabilities dropped and the runtime seccomp profile', () => {
    expect(securityProblems(base)).toEqual([]);
    for (const d of deploymentsOf(base)) {
      for (const c of [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers]) {
        expect([d.metadata.name, c.name, c.securityContext?.readOnlyRootFilesystem]).toEqual([d.metadata.name, c.name, true]);
      }
    }
  });

  it('every container has CPU and memory requests and limits', () => {
    expect(resourceProblems(base)).toEqual([]);
  });

  it('each Deployment is selected by a Service, a ServiceMonitor scraping /metrics on its port, and a PodDisruptionBudget', () => {
    expect(selectionProblems(base)).toEqual([]);
    const broken = structuredClone(base).filter((o) => !(o.kind === 'ServiceMonitor' && o.metadata?.name === 'aggregator'));
    expect(selectionProblems(broken)).toEqual(['Service aggregator: no ServiceMonitor selects it']);
  });

  it('each service runs its own entrypoint command, the scraper from the image with Chromium', () => {
    for (const d of deploymentsOf(base)) {
      const name = d.metadata.name;
      const container = mainContainer(d);
      expect([name, container.args, container.image]).toEqual([name, [name], name === 'scraper' ? 'kbflow-scraper' : 'kbflow']);
    }
  });

  it('migrations run before any service: the Job, and a migrate init container in every Deployment', () => {
    const job = named(ofKind<PodTemplateOwner>(base, 'Job'), 'migrate');
    expect(job.spec.template.spec.containers.map((c) => [c.image, c.args])).toEqual([['kbflow', ['migrate']]]);
    for (const d of deploymentsOf(base)) {
      const init = d.spec.template.spec.initContainers ?? [];
      expect([d.metadata.name, init.map((c) => [c.name, c.image, c.args])]).toEqual([d.metadata.name, [['migrate', 'kbflow', ['migrate']]]]);
    }
  });

  it('workers leave replicas to their autoscaler; the api keeps at least two', () => {
    for (const d of deploymentsOf(base)) {
      expect([d.metadata.name, d.spec.replicas]).toEqual([d.metadata.name, d.metadata.name === 'api' ? 2 : undefined]);
    }
  });

  it("each worker's ScaledObject watches the backlog of every queue its main.ts consumes, plus CPU", () => {
    const scaledObjects = sourceManifests(KEDA_DIR).map((m) => m.obj as ScaledObject);
    for (const worker of WORKERS) {
      const queues = consumedQueues(worker);
      expect(queues.length).toBeGreaterThan(0);
      const so = named(scaledObjects, worker);
      expect(so.spec.scaleTargetRef.name).toBe(worker);
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const queries = so.spec.triggers.filter((t) => t.type === 'prometheus').map((t) => t.metadata.query ?? '');
      for (const queue of queues) {
        expect([worker, queue, queries.some((q) => q.includes(`kbflow_queue_jobs{queue="${queue}",state=~"waiting|prioritized|delayed"}`))]).toEqual([
          worker,
          queue,
          true,
        ]);
      }
      expect(so.spec.triggers.filter((t) => t.type === 'cpu').map((t) => [t.metricType, t.metadata.value])).toEqual([['Utilization', '70']]);
    }
  });

  it('the hpa-cpu component has a CPU HPA per worker, and the default kustomization includes KEDA, never both', () => {
    const hpas = sourceManifests(HPA_DIR).map((m) => m.obj as Hpa);
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([...WORKERS].sort());
    for (const h of hpas) expect(h.spec.metrics?.map((m) => m.resource?.name)).toEqual(['cpu']);
    const root = loadYamlDocuments(path.join(K8S_DIR, 'kustomization.yaml'))[0] as { components?: string[] };
    const overlay = loadYamlDocuments(path.join(HPA_OVERLAY_DIR, 'kustomization.yaml'))[0] as { components?: string[] };
    expect(root.components).toEqual(['components/keda']);
    expect(overlay.components).toEqual(['../../components/hpa-cpu']);
  });
});

describe('stateful dependencies', () => {
  const statefulSets = ofKind<PodTemplateOwner>(base, 'StatefulSet');

  it('Redis keeps an append-only file and never evicts (BullMQ), on a persistent volume', () => {
    const redis = named(statefulSets, 'redis');
    const args = redis.spec.template.spec.containers[0]?.args?.join(' ') ?? '';
    expect(args).toMatch(/--appendonly yes/);
    expect(args).toMatch(/--maxmemory-policy noeviction/);
    expect((redis.spec as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates).toHaveLength(1);
  });

  it('Qdrant runs in distributed mode with three peers and a headless Service for peer discovery', () => {
    const qdrant = named(statefulSets, 'qdrant');
    const env = qdrant.spec.template.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'QDRANT__CLUSTER__ENABLED', value: 'true' });
    expect(qdrant.spec.replicas).toBe(3);
    const headless = named(ofKind(base, 'Service'), (qdrant.spec as { serviceName?: string }).serviceName ?? '') as K8sObject & {
      spec: { clusterIP?: string; ports: { port: number }[] };
    };
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.ports.map((p) => p.port)).toContain(6335);
  });

  it('PostgreSQL is version 15 or newer, on a persistent volume', () => {
    const postgres = named(statefulSets, 'postgres');
    const image = postgres.spec.template.spec.containers[0]?.image ?? '';
    expect(Number(/^postgres:(\d+)/.exec(image)?.[1])).toBeGreaterThanOrEqual(15);
    expect((postgres.spec as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates).toHaveLength(1);
  });

  it('every workload in the base is one of the known ones', () => {
    expect(base.filter(isPodOwner).map(label).sort()).toEqual([
      'Deployment/aggregator',
      'Deployment/api',
      'Deployment/embedder',
      'Deployment/maintenance',
      'Deployment/scraper',
      'Job/migrate',
      'StatefulSet/postgres',
      'StatefulSet/qdrant',
      'StatefulSet/redis',
    ]);
  });
});
