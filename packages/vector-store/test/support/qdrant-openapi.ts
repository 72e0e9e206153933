import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** `<repo root>/../shared/data/...`: the repo root is two levels above packages/vector-store. */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const QDRANT_OPENAPI_FILE = join(REPO_ROOT, '..', 'shared', 'data', 'qdrant-openapi', 'openapi-v1.19.x.json');

const STRICT_ID = 'https://kbflow.local/qdrant-1.19/strict.json';
const SPEC_ID = 'https://kbflow.local/qdrant-1.19/spec.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface RawOperation {
  operationId: string;
  parameters?: { name: string; in: 'path' | 'query'; required?: boolean; schema: JsonObject }[];
  requestBody?: { content: Record<string, { schema: JsonObject }> };
  responses: Record<string, { content?: Record<string, { schema: JsonObject }> }>;
}

/** One request as the test server saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
  matches(path: string): Record<string, string> | undefined;
  literalSegments: number;
  raw: RawOperation;
}

/**
 * The Qdrant 1.19 REST contract, compiled for ajv.
 *
 * Why ajv over an OpenAPI validator library: ajv is already a dev dependency,
 * works offline, and the conversion OpenAPI 3.0 needs is small and visible
 * here: `nullable` becomes a `null` type (a bare `{nullable: true}` branch of
 * an `anyOf` would otherwise accept anything and make every optional field
 * unchecked), `example` is dropped, and `#/components/schemas/X` refs point
 * into one registered document.
 *
 * Request bodies are checked in a strict mode that also closes every object
 * schema (`additionalProperties: false`): Qdrant's serde structs mostly
 * ignore unknown fields, so a misspelt `with_payload` would be silently
 * dropped by the server, and only a closed schema catches it. Responses of the
 * test's fake server are checked against the spec as written.
 */
export class QdrantOpenApi {
  readonly operations: Operation[];
  readonly #ajv: Ajv;
  readonly #bodyValidators = new Map<string, ValidateFunction>();
  readonly #responseValidators = new Map<string, ValidateFunction>();
  readonly #paramValidators = new Map<string, ValidateFunction>();

  constructor(spec: { paths: Record<string, Record<string, RawOperation>>; components: { schemas: JsonObject } }) {
    this.#ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    registerFormats(this.#ajv, spec as unknown as JsonObject);
    this.#ajv.addSchema({ $id: STRICT_ID, definitions: convertMap(spec.components.schemas, STRICT_ID, true) });
    this.#ajv.addSchema({ $id: SPEC_ID, definitions: convertMap(spec.components.schemas, SPEC_ID, false) });

    this.operations = [];
    for (const [pathTemplate, item] of Object.entries(spec.paths)) {
      for (const method of HTTP_METHODS) {
        const raw = item[method];
        if (!raw) continue;
        const names: string[] = [];
        const pattern = pathTemplate.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
          names.push(name);
          return '([^/]+)';
        });
        const regex = new RegExp(`^${pattern}$`);
        this.operations.push({
          operationId: raw.operationId,
          method: method.toUpperCase(),
          pathTemplate,
          literalSegments: pathTemplate.split('/').filter((s) => s && !s.startsWith('{')).length,
          raw,
          matches: (path) => {
            const m = regex.exec(path);
            return m ? Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) : undefined;
          },
        });
      }
    }
  }

  static load(file = QDRANT_OPENAPI_FILE): QdrantOpenApi {
    return new QdrantOpenApi(JSON.parse(readFileSync(file, 'utf8')));
  }

  /** The operation for a method and concrete path; literal segments win over `{params}` (`/collections/aliases`). */
  match(method: string, path: string): { operation: Operation; pathParams: Record<string, string> } | undefined {
    const found = this.operations
      .filter((op) => op.method === method.toUpperCase())
      .map((operation) => ({ operation, pathParams: operation.matches(path) }))
      .filter((c): c is { operation: Operation; pathParams: Record<string, string> } => c.pathParams !== undefined)
      .sort((a, b) => b.operation.literalSegments - a.operation.literalSegments);
    return found[0];
  }

  /** Every way the request breaks the contract; empty when it conforms. */
  validateRequest(req: RecordedRequest): string[] {
    const matched = this.match(req.method, req.path);
    if (!matched) return [`${req.method} ${req.path}: no such operation in Qdrant 1.19`];
    const { operation, pathParams } = matched;
    const where = `${operation.operationId} (${req.method} ${req.path})`;
    const problems: string[] = [];
    const params = operation.raw.parameters ?? [];

    for (const [name, value] of Object.entries(pathParams)) {
      const declared = params.find((p) => p.in === 'path' && p.name === name);
      if (!declared) problems.push(`${where}: undeclared path parameter ${name}`);
      else problems.push(...this.#check(this.#paramValidator(operation, declared), value, `${where} path ${name}`));
    }
    for (const [name, value] of Object.entries(req.query)) {
      const declared = params.find((p) => p.in === 'query' && p.name === name);
      if (!declared) problems.push(`${where}: undeclared query parameter ${name}`);
      else problems.push(...this.#check(this.#paramValidator(operation, declared), coerceQuery(value, declared.schema), `${where} query ${name}`));
    }
    for (const p of params.filter((p) => p.required && p.in === 'query')) {
      if (!(p.name in req.query)) problems.push(`${where}: missing required query parameter ${p.name}`);
    }

    const bodySchema = operation.raw.requestBody?.content['application/json']?.schema;
    if (req.body !== undefined && !bodySchema) problems.push(`${where}: sends a body the operation does not take`);
    if (bodySchema) {
      if (req.body === undefined) problems.push(`${where}: body missing`);
      else problems.push(...this.#check(this.#bodyValidator(operation, bodySchema), req.body, `${where} body`));
    }
    return problems;
  }

  /** Checks a (fake) 200 response against the operation's declared response. */
  validateResponse(operationId: string, body: unknown): string[] {
    const operation = this.operations.find((op) => op.operationId === operationId);
    const schema = operation?.raw.responses['200']?.content?.['application/json']?.schema;
    if (!operation || !schema) return [`${operationId}: no JSON 200 response in the spec`];
    let validate = this.#responseValidators.get(operationId);
    if (!validate) {
      validate = this.#ajv.compile(convert(schema, SPEC_ID, false) as object);
      this.#responseValidators.set(operationId, validate);
    }
    return this.#check(validate, body, `${operationId} response`);
  }

  #bodyValidator(operation: Operation, schema: JsonObject): ValidateFunction {
    let validate = this.#bodyValidators.get(operation.operationId);
    if (!validate) {
      validate = this.#ajv.compile(convert(schema, STRICT_ID, true) as object);
      this.#bodyValidators.set(operation.operationId, validate);
    }
    return validate;
  }

  #paramValidator(operation: Operation, param: { name: string; in: string; schema: JsonObject }): ValidateFunction {
    const key = `${operation.operationId}:${param.in}:${param.name}`;
    let validate = this.#paramValidators.get(key);
    if (!validate) {
      validate = this.#ajv.compile(convert(param.schema, STRICT_ID, true) as object);
      this.#paramValidators.set(key, validate);
    }
    return validate;
  }

  #check(validate: ValidateFunction, value: unknown, where: string): string[] {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e: ErrorObject) => `${where}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

function coerceQuery(value: string, schema: JsonObject): unknown {
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return value;
}

function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function convertMap(schemas: JsonObject, id: string, strict: boolean): JsonObject {
  return Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, convert(s, id, strict) as Json]));
}

/** OpenAPI 3.0 schema object -> JSON Schema draft-07 (see the class comment). */
function convert(node: Json, id: string, strict: boolean): Json {
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'example':
      case 'nullable':
        break;
      case '$ref':
        out.$ref = String(value).replace('#/components/schemas/', `${id}#/definitions/`);
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, convert(v, id, strict)]));
        break;
      case 'items':
      case 'not':
        out[key] = convert(value, id, strict);
        break;
      case 'additionalProperties':
        out[key] = isObject(value) ? convert(value, id, strict) : value;
        break;
      case 'anyOf':
      case 'oneOf':
        out[key] = (value as Json[]).map((v) => convert(v, id, strict));
        break;
      default:
        out[key] = value;
    }
  }
  if (strict && isObject(out.properties) && out.additionalProperties === undefined) out.additionalProperties = false;
  if (node.nullable !== true) return out;
  const onlyAnnotations = Object.keys(out).every((k) => ['description', 'default', 'deprecated'].includes(k));
  if (onlyAnnotations) return { type: 'null' };
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

const INTEGER_RANGES: Record<string, [number, number]> = {
  uint8: [0, 255],
  uint32: [0, 2 ** 32 - 1],
  uint: [0, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Qdrant's Rust number formats, plus the string formats from ajv-formats; any other format fails loudly. */
function registerFormats(ajv: Ajv, spec: JsonObject): void {
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv, f: string[]) => void;
  addFormats(ajv, ['uuid', 'date-time', 'uri']);
  for (const [name, [min, max]] of Object.entries(INTEGER_RANGES)) {
    ajv.addFormat(name, { type: 'number', validate: (x: number) => Number.isInteger(x) && x >= min && x <= max });
  }
  ajv.addFormat('float', { type: 'number', validate: (x: number) => Number.isFinite(x) && Math.abs(x) <= 3.4028235e38 });
  ajv.addFormat('double', { type: 'number', validate: (x: number) => Number.isFinite(x) });
  // Multipart uploads and partial dates: never sent by the adapter, accepted as plain strings.
  ajv.addFormat('binary', true);
  ajv.addFormat('partial-date-time', true);

  const known = new Set(['uuid', 'date-time', 'uri', 'float', 'double', 'binary', 'partial-date-time', ...Object.keys(INTEGER_RANGES)]);
  const unknown = new Set<string>();
  const walk = (x: Json) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (isObject(x)) {
      if (typeof x.format === 'string' && !known.has(x.format)) unknown.add(x.format);
      Object.values(x).forEach(walk);
    }
  };
  walk(spec);
  if (unknown.size > 0) throw new Error(`formats in the Qdrant spec with no validator: ${[...unknown].join(', ')}`);
}
