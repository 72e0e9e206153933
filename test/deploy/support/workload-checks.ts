// Checks of the kbflow workloads in a set of Kubernetes objects. Each returns
// its problems, one line each, empty when all is well: the tests assert that
// on the real manifests and feed them broken copies to prove they can fail.
import type { K8sObject } from './k8s-schema-validator.ts';
import { ENV_SCHEMAS, SERVICES, type Service } from './env-schemas.ts';
import { containerEnvironment, isPodOwner, ofKind, selects, type Container, type PodTemplateOwner, type Probe } from './k8s-manifests.ts';

interface ServiceObject extends K8sObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { selector?: Record<string, string>; ports: { name?: string; port: number; targetPort?: string | number }[] };
}
interface ServiceMonitorObject extends K8sObject {
  metadata: { name: string };
  spec: { selector: { matchLabels?: Record<string, string> }; endpoints: { port?: string; path?: string }[] };
}
interface PdbObject extends K8sObject {
  metadata: { name: string };
  spec: { selector: { matchLabels?: Record<string, string> } };
}

export function deploymentsOf(objs: K8sObject[]): PodTemplateOwner[] {
  return ofKind<PodTemplateOwner>(objs, 'Deployment');
}

/** The kbflow container of a service's Deployment (named after the service). */
export function mainContainer(deployment: PodTemplateOwner): Container {
  const name = deployment.metadata.name;
  const container = deployment.spec.template.spec.containers.find((c) => c.name === name);
  if (!container) throw new Error(`Deployment ${name} has no container named ${name}`);
  return container;
}

function preStopSleepSeconds(container: Container): number {
  const command = container.lifecycle?.preStop?.exec?.command ?? [];
  return command[0] === 'sleep' ? Number(command[1] ?? 0) : 0;
}

/** The port a service listens on, from the environment its container gets (or the schema's default). */
export function listeningPort(service: Service, env: Record<string, string>): number {
  const key = service === 'api' ? 'KBFLOW_API_PORT' : 'KBFLOW_METRICS_PORT';
  const value = env[key] || ENV_SCHEMAS[service].defaults[key];
  return Number(value);
}

/** The port that serves /metrics: the worker's one port, the API's own metrics listener (never its public port). */
export function metricsPort(service: Service, env: Record<string, string>): number {
  return Number(env.KBFLOW_METRICS_PORT || ENV_SCHEMAS[service].defaults.KBFLOW_METRICS_PORT);
}

function probePort(container: Container, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
  if (port === undefined) return undefined;
  const declared = container.ports ?? [];
  if (typeof port === 'number') return declared.some((p) => p.containerPort === port) ? port : undefined;
  return declared.find((p) => p.name === port)?.containerPort;
}

/** Every kbflow Deployment outlives its shutdown deadline (plus any preStop pause) before SIGKILL. */
export function gracePeriodProblems(objs: K8sObject[]): string[] {
  return deploymentsOf(objs).flatMap((d) => {
    const container = mainContainer(d);
    const env = containerEnvironment(container, objs);
    const timeoutMs = Number(env.KBFLOW_SHUTDOWN_TIMEOUT_MS || ENV_SCHEMAS.api.defaults.KBFLOW_SHUTDOWN_TIMEOUT_MS);
    const needed = timeoutMs / 1000 + preStopSleepSeconds(container);
    const grace = d.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    return grace > needed
      ? []
      : [
          `Deployment ${d.metadata.name}: terminationGracePeriodSeconds ${grace} must exceed ${needed} (KBFLOW_SHUTDOWN_TIMEOUT_MS ${timeoutMs} ms + preStop ${preStopSleepSeconds(container)} s)`,
        ];
  });
}

/** Liveness on /healthz, readiness on /readyz, both on a declared container port that is the port the service listens on. */
export function probeProblems(objs: K8sObject[]): string[] {
  return deploymentsOf(objs).flatMap((d) => {
    const name = d.metadata.name as Service;
    const container = mainContainer(d);
    const port = listeningPort(name, containerEnvironment(container, objs));
    const problems: string[] = [];
    if (!container.ports?.some((p) => p.containerPort === port)) {
      problems.push(`Deployment ${name}: no containerPort ${port}, the port its environment makes it listen on`);
    }
    for (const [kind, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      const probe = container[kind];
      if (probe?.httpGet?.path !== path) problems.push(`Deployment ${name}: ${kind} must GET ${path}, has ${JSON.stringify(probe)}`);
      const resolved = probePort(container, probe);
      if (resolved !== port) problems.push(`Deployment ${name}: ${kind} port ${String(probe?.httpGet?.port)} resolves to ${String(resolved)}, not ${port}`);
    }
    if (container.startupProbe && probePort(container, container.startupProbe) !== port) {
      problems.push(`Deployment ${name}: startupProbe is not on port ${port}`);
    }
    return problems;
  });
}

/** Pod and container settings of the restricted Pod Security profile, on every pod of every workload. */
export function securityProblems(objs: K8sObject[]): string[] {
  return objs.filter(isPodOwner).flatMap((owner) => {
    const where = `${owner.kind} ${owner.metadata.name}`;
    const pod = owner.spec.template.spec;
    const problems: string[] = [];
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
    if (!pod.securityContext?.runAsUser) problems.push(`${where}: pod securityContext.runAsUser must be a non-zero uid`);
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile must be RuntimeDefault`);
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const sc = c.securityContext;
      if (sc?.allowPrivilegeEscalation !== false) problems.push(`${where}/${c.name}: allowPrivilegeEscalation must be false`);
      if (!sc?.capabilities?.drop?.includes('ALL')) problems.push(`${where}/${c.name}: capabilities must drop ALL`);
      if (sc?.runAsUser === 0) problems.push(`${where}/${c.name}: runs as root`);
    }
    return problems;
  });
}

/** CPU and memory requests and limits on every container, init containers included. */
export function resourceProblems(objs: K8sObject[]): string[] {
  return objs.filter(isPodOwner).flatMap((owner) => {
    const pod = owner.spec.template.spec;
    return [...(pod.initContainers ?? []), ...pod.containers].flatMap((c) =>
      ['requests', 'limits'].flatMap((side) =>
        ['cpu', 'memory']
          .filter((r) => !c.resources?.[side as 'requests' | 'limits']?.[r])
          .map((r) => `${owner.kind} ${owner.metadata.name}/${c.name}: no ${side}.${r}`),
      ),
    );
  });
}

/** Each service's Deployment is selected by a Service, a ServiceMonitor (on a port of that Service) and a PodDisruptionBudget. */
export function selectionProblems(objs: K8sObject[]): string[] {
  const services = ofKind<ServiceObject>(objs, 'Service');
  const monitors = ofKind<ServiceMonitorObject>(objs, 'ServiceMonitor');
  const pdbs = ofKind<PdbObject>(objs, 'PodDisruptionBudget');
  return SERVICES.flatMap((name) => {
    const d = deploymentsOf(objs).find((x) => x.metadata.name === name);
    if (!d) return [`no Deployment ${name}`];
    const podLabels = d.spec.template.metadata?.labels;
    const problems: string[] = [];
    if (!selects(d.spec.selector?.matchLabels, podLabels)) problems.push(`Deployment ${name}: its selector does not match its pod labels`);
    const container = mainContainer(d);
    const port = listeningPort(name, containerEnvironment(container, objs));
    const svc = services.find((s) => selects(s.spec.selector, podLabels));
    if (!svc) return [...problems, `Deployment ${name}: no Service selects its pods`];
    const svcPort = svc.spec.ports.find((p) => {
      const target = p.targetPort ?? p.port;
      return typeof target === 'number' ? target === port : container.ports?.find((cp) => cp.name === target)?.containerPort === port;
    });
    if (!svcPort) problems.push(`Service ${svc.metadata.name}: no port targets ${name}'s port ${port}`);
    const metrics = metricsPort(name, containerEnvironment(container, objs));
    const metricsSvcPort = svc.spec.ports.find((p) => {
      const target = p.targetPort ?? p.port;
      return typeof target === 'number' ? target === metrics : container.ports?.find((cp) => cp.name === target)?.containerPort === metrics;
    });
    const monitor = monitors.find((m) => selects(m.spec.selector.matchLabels, svc.metadata.labels));
    if (!monitor) problems.push(`Service ${svc.metadata.name}: no ServiceMonitor selects it`);
    else if (!monitor.spec.endpoints.some((e) => e.port === metricsSvcPort?.name && (e.path ?? '/metrics') === '/metrics')) {
      problems.push(`ServiceMonitor ${monitor.metadata.name}: no endpoint scrapes /metrics on the port serving ${name}'s metrics (${metrics})`);
    }
    if (!pdbs.some((p) => selects(p.spec.selector.matchLabels, podLabels))) problems.push(`Deployment ${name}: no PodDisruptionBudget selects its pods`);
    return problems;
  });
}
