import express from 'express';
import { mountV1Routes, type AppDeps } from '../app.ts';
import { RouteRegistry } from '../http/route-registry.ts';
import type { AdmissionControl } from '../http/admission.ts';
import { buildOpenApiDocument } from './openapi-document.ts';

/**
 * A stand-in for every dependency: any property read or call gives another
 * stand-in. Route modules only keep references to their dependencies while
 * being declared (a queue handle, a bound middleware), so declaring them
 * this way touches no Redis or PostgreSQL; no handler ever runs.
 */
function inert(): never {
  const target = function inertDependency() {};
  const proxy: unknown = new Proxy(target, {
    get: (_t, prop) => (prop === 'then' ? undefined : proxy),
    apply: () => proxy,
  });
  return proxy as never;
}

/**
 * The OpenAPI document of the API without running it: the same
 * {@link mountV1Routes} the server calls, on dependencies that are never
 * used. The client's generator (packages/client) reads it from here.
 */
export function describeApi(): Record<string, unknown> {
  const registry = new RouteRegistry();
  const deps = new Proxy({} as AppDeps, { get: (_t, prop) => (prop === 'searchLogs' ? { writer: inert(), repository: inert() } : inert()) });
  mountV1Routes(registry, express.Router(), deps, inert() as AdmissionControl);
  return buildOpenApiDocument(registry.routes());
}
