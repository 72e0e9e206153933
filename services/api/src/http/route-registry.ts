import type { ApiKeyScope } from '@kbflow/db';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { parseBody } from './api-error.ts';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

/** Who may call a route: any tenant key (the default) or the admin key. */
type RouteAccess = 'tenant' | 'admin';

/** One documented response of a route. */
interface ResponseSpec {
  description: string;
  /** The JSON body (omitted for 204 and for non-JSON bodies). */
  schema?: z.ZodType;
  /** Content type of the body when it is not JSON (e.g. `text/event-stream`). */
  contentType?: string;
}

/** A request body format besides the JSON one `body` describes (CSV, NDJSON, multipart uploads). */
interface ExtraBodySpec {
  contentType: string;
  description: string;
  /** The shape when the format has one (multipart forms); otherwise documented as a string. */
  schema?: z.ZodType;
}

/**
 * What the OpenAPI document says about a route, and what the route
 * validates with: `params`, `query` and `body` are the zod schemas its
 * handler parses through {@link RouteInput}, so the two cannot drift apart.
 */
export interface RouteSpec<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
> {
  /** Stable operation id (the client's method name), camelCase. */
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  access?: RouteAccess;
  /**
   * The scope a key needs: `admin` for admin routes; otherwise `read` for
   * GET and `write` for the rest unless given (searches and queries are POSTs
   * that only read: they say `read`).
   */
  scope?: ApiKeyScope;
  params?: P;
  query?: Q;
  body?: B;
  /** The JSON body is optional (an empty body is parsed as `{}`). */
  bodyOptional?: boolean;
  extraBodies?: ExtraBodySpec[];
  /** Success responses by status. */
  responses: Record<number, ResponseSpec>;
  /** Error responses by status beyond the common ones (400/401/403/500), each with the codes it carries. */
  errors?: Record<number, string[]>;
  /**
   * A request that succeeds against a fresh deployment with the dev tenant's
   * data (path parameters come from the contract test's fixtures when they
   * name something that must exist first). The contract test sends one per
   * route and checks the answer against `responses`.
   */
  example?: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; files?: { name: string; type: string; text: string }[] };
}

/** The parsed parts of a request, read on demand so a handler keeps its own order of checks. */
export interface RouteInput<B, Q, P> {
  body: () => B extends z.ZodType ? z.output<B> : undefined;
  query: () => Q extends z.ZodType ? z.output<Q> : undefined;
  params: () => P extends z.ZodType ? z.output<P> : undefined;
}

export type RouteHandler<B, Q, P> = (req: Request, res: Response, input: RouteInput<B, Q, P>) => Promise<void> | void;

/** A route as the registry keeps it. */
export interface RegisteredRoute {
  method: HttpMethod;
  /** Express path, prefix included (`/v1/tasks/:id`). */
  path: string;
  spec: RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;
}

interface RouteEntry extends Omit<RegisteredRoute, 'path'> {
  path: string;
  handler: RouteHandler<unknown, unknown, unknown>;
  before: RequestHandler[];
}

/**
 * Routes of one module (tasks, queries, cases...), declared with their
 * spec. They are only data until {@link RouteRegistry.mount} puts them on a
 * router: a route cannot be served without being in the registry, which is
 * what the OpenAPI document is generated from.
 */
export class ApiRoutes {
  readonly entries: RouteEntry[] = [];

  #add<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined>(
    method: HttpMethod,
    path: string,
    spec: RouteSpec<B, Q, P>,
    handlers: [...RequestHandler[], RouteHandler<B, Q, P>],
  ): this {
    const handler = handlers.at(-1) as RouteHandler<B, Q, P>;
    const before = handlers.slice(0, -1) as RequestHandler[];
    this.entries.push({ method, path, spec: spec as RegisteredRoute['spec'], handler: handler as RouteHandler<unknown, unknown, unknown>, before });
    return this;
  }

  get<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
    path: string,
    spec: RouteSpec<B, Q, P>,
    ...handlers: [...RequestHandler[], RouteHandler<B, Q, P>]
  ): this {
    return this.#add('get', path, spec, handlers);
  }

  post<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
    path: string,
    spec: RouteSpec<B, Q, P>,
    ...handlers: [...RequestHandler[], RouteHandler<B, Q, P>]
  ): this {
    return this.#add('post', path, spec, handlers);
  }

  patch<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
    path: string,
    spec: RouteSpec<B, Q, P>,
    ...handlers: [...RequestHandler[], RouteHandler<B, Q, P>]
  ): this {
    return this.#add('patch', path, spec, handlers);
  }

  delete<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
    path: string,
    spec: RouteSpec<B, Q, P>,
    ...handlers: [...RequestHandler[], RouteHandler<B, Q, P>]
  ): this {
    return this.#add('delete', path, spec, handlers);
  }
}

/** The scope a route needs (see {@link RouteSpec.scope}). */
export function routeScope(method: HttpMethod, spec: Pick<RouteSpec, 'access' | 'scope'>): ApiKeyScope {
  if (spec.access === 'admin') return 'admin';
  return spec.scope ?? (method === 'get' ? 'read' : 'write');
}

/** Parses with a schema when there is one; a route without a schema for a part gets `undefined`. */
function lazyParse(schema: z.ZodType | undefined, read: () => unknown): () => never {
  let parsed: { value: unknown } | undefined;
  return (() => {
    if (!schema) return undefined;
    parsed ??= { value: parseBody(schema, read()) };
    return parsed.value;
  }) as () => never;
}

/**
 * The one registry of the API's documented routes: the router serves what
 * is mounted here and the OpenAPI document lists exactly that. Mounting is
 * the only way a module's routes reach Express.
 */
export class RouteRegistry {
  readonly #routes: RegisteredRoute[] = [];
  readonly #scopeGuard: ((scope: ApiKeyScope) => RequestHandler) | undefined;

  /** @param opts.scopeGuard the middleware that refuses a key without the route's scope ({@link routeScope}) */
  constructor(opts: { scopeGuard?: (scope: ApiKeyScope) => RequestHandler } = {}) {
    this.#scopeGuard = opts.scopeGuard;
  }

  /** Puts a module's routes on `router` (mounted at `prefix` by the caller) and records them. */
  mount(router: Router, prefix: string, routes: ApiRoutes): void {
    for (const entry of routes.entries) {
      const fullPath = `${prefix}${entry.path}`;
      if (this.#routes.some((r) => r.method === entry.method && r.path === fullPath))
        throw new Error(`route ${entry.method.toUpperCase()} ${fullPath} is registered twice`);
      this.#routes.push({ method: entry.method, path: fullPath, spec: entry.spec });
      const { spec, handler } = entry;
      const run: RequestHandler = async (req, res) => {
        const input = {
          body: lazyParse(spec.body, () => req.body),
          query: lazyParse(spec.query, () => req.query),
          params: lazyParse(spec.params, () => req.params),
        };
        await handler(req, res, input);
      };
      const guards = this.#scopeGuard ? [this.#scopeGuard(routeScope(entry.method, spec))] : [];
      router[entry.method](entry.path, ...guards, ...entry.before, run);
    }
  }

  /** Every registered route, in mounting order. */
  routes(): readonly RegisteredRoute[] {
    return this.#routes;
  }
}
