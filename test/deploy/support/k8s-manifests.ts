import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@kbflow/testing';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './k8s-schema-validator.ts';

export const K8S_DIR = path.join(REPO_ROOT, 'k8s');

/** The kinds kustomize reads rather than applies. */
const KUSTOMIZE_KINDS = new Set(['Kustomization', 'Component']);

/** Every document of a multi-document YAML file; a syntax error throws with the file's name. */
export function loadYamlDocuments(file: string): unknown[] {
  return parseYamlDocuments(readFileSync(file, 'utf8'), file);
}

export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

/** Every .yaml/.yml file below a directory. */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  configMapGenerator?: { files?: string[] }[];
}

/** The files a kustomization (or component) consumes: manifests it lists as resources, and generator inputs. */
export function filesUsedByKustomizations(dir: string): { manifests: Set<string>; generatorInputs: Set<string> } {
  const manifests = new Set<string>();
  const generatorInputs = new Set<string>();
  for (const file of yamlFilesUnder(dir).filter((f) => path.basename(f) === 'kustomization.yaml')) {
    const base = path.dirname(file);
    const k = loadYamlDocuments(file)[0] as Kustomization;
    for (const entry of k.resources ?? []) {
      const target = path.resolve(base, entry);
      if (statSync(target).isFile()) manifests.add(target);
    }
    for (const gen of k.configMapGenerator ?? []) {
      for (const entry of gen.files ?? []) generatorInputs.add(path.resolve(base, entry.replace(/^[^=]+=/, '')));
    }
  }
  return { manifests, generatorInputs };
}

/** Kubernetes objects of the manifest files (kustomization files excluded), with the file each came from. */
export function sourceManifests(dir: string): { file: string; obj: K8sObject }[] {
  const { generatorInputs } = filesUsedByKustomizations(dir);
  return yamlFilesUnder(dir)
    .filter((f) => !generatorInputs.has(f))
    .flatMap((file) =>
      loadYamlDocuments(file)
        .map((obj) => ({ file, obj: obj as K8sObject }))
        .filter(({ obj }) => !KUSTOMIZE_KINDS.has(String(obj.kind))),
    );
}

export function kubectlAvailable(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

/** `kubectl kustomize <dir>`, offline: the objects it would apply. */
export function renderKustomization(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseYamlDocuments(out, `kubectl kustomize ${dir}`) as K8sObject[];
}

// --- typed views of the parts the tests read -------------------------------

export interface EnvVar {
  name: string;
  value?: string;
}

export interface Probe {
  httpGet?: { path?: string; port: string | number };
  exec?: { command: string[] };
  tcpSocket?: { port: string | number };
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
}

export interface PodTemplateOwner extends K8sObject {
  kind: 'Deployment' | 'StatefulSet' | 'Job';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

export function isPodOwner(obj: K8sObject): obj is PodTemplateOwner {
  return obj.kind === 'Deployment' || obj.kind === 'StatefulSet' || obj.kind === 'Job';
}

export function ofKind<T extends K8sObject = K8sObject>(objs: K8sObject[], kind: string): T[] {
  return objs.filter((o) => o.kind === kind) as T[];
}

export function named<T extends K8sObject>(objs: T[], name: string): T {
  const found = objs.find((o) => o.metadata?.name === name);
  if (!found) throw new Error(`no object named ${name} among ${objs.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`).join(', ')}`);
  return found;
}

/** Whether a label selector's matchLabels select the given labels. */
export function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v);
}

interface ConfigSource extends K8sObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The keys and values of a ConfigMap or Secret (Secret `data` decoded). */
export function configValues(obj: K8sObject): Record<string, string> {
  const { data = {}, stringData = {} } = obj as ConfigSource;
  const decoded = obj.kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : data;
  return { ...decoded, ...stringData };
}

/**
 * The environment a container starts with: its envFrom ConfigMaps and Secrets
 * in order, then its own `env` (which wins, as in Kubernetes). A reference to
 * an object that does not exist throws.
 */
export function containerEnvironment(container: Container, objs: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const source = objs.find((o) => o.kind === kind && o.metadata?.name === ref?.name);
    if (!source) throw new Error(`container ${container.name}: envFrom ${kind} ${String(ref?.name)} does not exist`);
    Object.assign(env, configValues(source));
  }
  for (const { name, value } of container.env ?? []) env[name] = value ?? '';
  return env;
}
