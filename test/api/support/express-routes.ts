import type { Express } from 'express';

/** Routes outside /v1 that are infrastructure, not API operations (documented in docs/api.md). */
export const INFRASTRUCTURE_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/init.js',
  'POST /mcp',
  'GET /mcp',
  'DELETE /mcp',
];

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every method and path Express routes to, read from the app's router stack
 * (nested routers included, with the paths they are mounted at): what the
 * server really serves, whatever the registry says. Static-file mounts
 * (Bull Board's UI, Swagger UI's assets) are middleware, not routes.
 */
export function expressRoutes(app: Express): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: `${prefix}${layer.route.path}` });
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}
