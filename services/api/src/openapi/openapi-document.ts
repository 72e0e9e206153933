import { z } from 'zod';
import { routeScope, type RegisteredRoute, type RouteSpec } from '../http/route-registry.ts';
import { errorResponse } from '../routes/responses.ts';

type Json = Record<string, unknown>;

/** The version of kbflow's HTTP API (the document's `info.version`). */
export const API_VERSION = '1.0.0';

/** Error codes every route can answer with, by status, on top of a route's own. */
const COMMON_ERRORS: Record<number, string[]> = {
  401: ['unauthorized'],
  429: ['rate_limited'],
  500: ['internal'],
  503: ['database_unavailable'],
};

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), with the
 * schemas named by `.meta({ id })` moved into `components`. Requests are
 * described as clients send them (`io: 'input'`: defaults optional),
 * responses as the API sends them.
 */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Json): Json {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, Json>;
  delete json.$defs;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : rewrite(v);
      return out;
    }
    return value;
  };
  for (const [name, def] of Object.entries(defs)) {
    const key = io === 'input' ? `${name}Input` : name;
    components[key] ??= rewrite(def);
  }
  const root = rewrite(json) as Json;
  // A request schema that names itself points at its input form.
  if (io === 'input' && typeof root.$ref === 'string') root.$ref = `${root.$ref}Input`;
  return root;
}

/** `/v1/tasks/:id` as OpenAPI writes it: `/v1/tasks/{id}`. */
function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(spec: RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>, path: string, components: Json): Json[] {
  const out: Json[] = [];
  const pathNames = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const objectProps = (schema: z.ZodType | undefined, io: 'input' | 'output') => {
    if (!schema) return { props: {} as Record<string, Json>, required: [] as string[] };
    const json = toJsonSchema(schema, io, components);
    return { props: (json.properties ?? {}) as Record<string, Json>, required: (json.required ?? []) as string[] };
  };
  const params = objectProps(spec.params, 'input');
  for (const name of pathNames) {
    out.push({ name, in: 'path', required: true, schema: params.props[name] ?? { type: 'string' } });
  }
  const query = objectProps(spec.query, 'input');
  for (const [name, schema] of Object.entries(query.props)) {
    const { description, ...rest } = schema;
    out.push({ name, in: 'query', required: query.required.includes(name), schema: rest, ...(description ? { description } : {}) });
  }
  return out;
}

function errorDescription(status: number, codes: string[]): string {
  const what: Record<number, string> = {
    400: 'invalid input; `field` names the field at fault',
    401: 'no API key, or an unknown one',
    403: 'the key may not call this route',
    404: 'not found',
    409: 'conflict',
    413: 'the body or file is over its cap',
    415: 'the body or file type is not supported',
    422: 'understood but cannot be processed',
    429: 'rate limited; retry after Retry-After seconds',
    500: 'unexpected error (details in the server log)',
    502: 'the job that served the request failed',
    503: 'overloaded or a dependency is down; retry after Retry-After seconds',
    504: 'no answer within the timeout',
  };
  return `${what[status] ?? 'error'}. Codes: ${codes.map((c) => `\`${c}\``).join(', ')}`;
}

function operation(route: RegisteredRoute, components: Json): Json {
  const { spec } = route;
  const responses: Json = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema || response.contentType
        ? {
            content: {
              [response.contentType ?? 'application/json']: {
                schema: response.schema ? toJsonSchema(response.schema, 'output', components) : { type: 'string' },
              },
            },
          }
        : {}),
    };
  }
  const errors: Record<number, string[]> = {};
  const add = (status: number, codes: string[]) => (errors[status] = [...new Set([...(errors[status] ?? []), ...codes])]);
  if (spec.body || spec.query || spec.params || spec.extraBodies) add(400, ['invalid_field', 'unknown_field', ...(spec.body ? ['invalid_json'] : [])]);
  // Every route needs a scope (routeScope), so any key may be refused with 403.
  add(403, ['forbidden']);
  for (const [status, codes] of Object.entries(spec.errors ?? {})) add(Number(status), codes);
  for (const [status, codes] of Object.entries(COMMON_ERRORS)) add(Number(status), codes);
  for (const [status, codes] of Object.entries(errors).sort(([a], [b]) => Number(a) - Number(b))) {
    responses[status] = {
      description: errorDescription(Number(status), codes),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const content: Json = {};
  if (spec.body) content['application/json'] = { schema: toJsonSchema(spec.body, 'input', components) };
  for (const extra of spec.extraBodies ?? []) {
    content[extra.contentType] = {
      schema: extra.schema ? toJsonSchema(extra.schema, 'input', components) : { type: 'string', description: extra.description },
    };
  }
  const params = parameters(spec, route.path, components);
  if (route.method === 'post') {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'a repeat with the same key, path and body gets the first 2xx answer back without running again (kept 24 h)',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    });
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(Object.keys(content).length > 0 ? { requestBody: { required: !spec.bodyOptional, content } } : {}),
    responses,
    ...(spec.access === 'admin' ? { 'x-kbflow-access': 'admin' } : {}),
    'x-kbflow-scope': routeScope(route.method, spec),
    // A request that succeeds (path parameters in braces name things that must exist first); the contract test sends it.
    ...(spec.example ? { 'x-kbflow-example': spec.example } : {}),
  };
}

/**
 * The OpenAPI 3.1 document of the routes in the registry: paths, request
 * and response bodies (from the routes' zod schemas), errors with their
 * codes, and bearer-key authentication on every operation.
 */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], opts: { serverUrl?: string } = {}): Json {
  const components: Json = {};
  // Named `Error` by its meta id: every error response refers to it.
  toJsonSchema(errorResponse, 'output', components);
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kbflow API',
      version: API_VERSION,
      description:
        'Keeps a knowledge base fresh from web documentation and support records, and answers questions over it with citations. Every /v1 route takes a tenant API key as `Authorization: Bearer <key>` holding the scope the route names in `x-kbflow-scope` (read, write or admin); routes marked admin need the admin key. Errors are `{"error": {"code", "message", "field"?}}`. POST routes honour an `Idempotency-Key` header.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'tasks', description: 'crawls, scrapes and their status' },
      { name: 'query', description: 'answers, search and embeddings' },
      { name: 'records', description: 'batch records and uploaded documents' },
      { name: 'cases', description: 'support cases' },
      { name: 'knowledge', description: 'knowledge bases and articles' },
      { name: 'operations', description: 'queues, workers, breakers, dead letters, schedules' },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'a tenant API key (or the admin key)' } },
      schemas: components,
    },
  };
}
