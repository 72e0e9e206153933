import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from '@kbflow/testing';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';

/** `<repo root>/../shared/data/k8s-json-schemas`: Kubernetes 1.30 (standalone, strict) and CRD schemas. */
export const K8S_SCHEMA_DIR = path.join(SHARED_DATA, 'k8s-json-schemas');
const CORE_DIR = 'v1.30.10-standalone-strict';
const CRD_DIR = 'crds';

/** A Kubernetes object as parsed from YAML. */
export interface K8sObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string> };
  [key: string]: unknown;
}

type JsonSchema = Record<string, unknown>;

/** `apps/v1|deployment`: how both schema directories are keyed (CRD files only know the kind in lower case). */
function schemaKey(apiVersion: string, kind: string): string {
  return `${apiVersion}|${kind.toLowerCase()}`;
}

function indexSchemas(): Map<string, string> {
  const index = new Map<string, string>();
  const coreDir = path.join(K8S_SCHEMA_DIR, CORE_DIR);
  for (const file of readdirSync(coreDir).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(path.join(coreDir, file), 'utf8')) as JsonSchema;
    const gvks = schema['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    for (const { group, version, kind } of gvks ?? []) {
      index.set(schemaKey(group ? `${group}/${version}` : version, kind), path.join(coreDir, file));
    }
  }
  // datree's CRD catalog names files <group>_<kind lower case>_<version>.json.
  const crdDir = path.join(K8S_SCHEMA_DIR, CRD_DIR);
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.json'))) {
    const match = /^(.+)_([a-z0-9]+)_([a-z0-9]+)\.json$/.exec(file);
    if (!match) continue;
    const [, group, kind, version] = match as unknown as [string, string, string, string];
    index.set(schemaKey(`${group}/${version}`, kind), path.join(crdDir, file));
  }
  return index;
}

function formatError(e: ErrorObject): string {
  const where = e.instancePath || '/';
  const extra =
    e.keyword === 'additionalProperties'
      ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
      : e.keyword === 'enum'
        ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`
        : '';
  return `${where} ${e.message ?? e.keyword}${extra}`;
}

/**
 * Validates Kubernetes objects against the schema of their apiVersion and
 * kind. An object whose kind has no schema is an error, so that nothing under
 * k8s/ escapes validation.
 */
export class K8sSchemaValidator {
  readonly #ajv: Ajv;
  readonly #index = indexSchemas();
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv, formats: string[]) => void;
    addFormats(this.#ajv, ['int32', 'int64', 'byte', 'date-time']);
  }

  /** The kinds a schema exists for, as `apiVersion|kind` (lower case). */
  get knownKinds(): string[] {
    return [...this.#index.keys()].sort();
  }

  #validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
    const key = schemaKey(apiVersion, kind);
    let validate = this.#compiled.get(key);
    if (validate) return validate;
    const file = this.#index.get(key);
    if (!file) return undefined;
    const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    // The files declare draft-04-style "http://json-schema.org/schema#", which Ajv 8 does not load.
    delete schema.$schema;
    validate = this.#ajv.compile(schema);
    this.#compiled.set(key, validate);
    return validate;
  }

  /** Problems of one object, each naming its JSON path; empty when valid. */
  validate(obj: unknown): string[] {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return ['/ is not an object'];
    const { apiVersion, kind } = obj as K8sObject;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['/ has no apiVersion or kind'];
    if (apiVersion === 'monitoring.coreos.com/v1' && kind === 'PrometheusRule') return prometheusRuleProblems(obj);
    const validate = this.#validatorFor(apiVersion, kind);
    if (!validate) return [`/ no schema for ${apiVersion} ${kind} in ${K8S_SCHEMA_DIR}`];
    if (validate(obj)) return [];
    return (validate.errors ?? []).map(formatError);
  }
}

/**
 * The PrometheusRule CRD's schema is not among the shared CRDs, and the
 * Operator's published CRD file is on GitHub, out of reach here. Its
 * schema is generated from the Operator's Go API types
 * (pkg/apis/monitoring/v1), as are the compiled validators that
 * @kubernetes-models/prometheus-operator ships on npm: that package checks it.
 */
export function prometheusRuleProblems(obj: object): string[] {
  try {
    new PrometheusRule(obj as ConstructorParameters<typeof PrometheusRule>[0]).validate();
    return [];
  } catch (error) {
    return [
      ...new Set(
        String((error as Error).message)
          .split(', ')
          .map((p) => p.replace(/^data/, '') || '/'),
      ),
    ];
  }
}
