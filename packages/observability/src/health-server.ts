import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A named dependency check; it rejects when the dependency does not answer. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
  /**
   * False for a dependency the process can serve without (degraded): it is
   * reported but does not make the process unready. Default true.
   */
  required?: boolean;
}

export interface HealthServer {
  server: Server;
  port: number;
  close: () => Promise<void>;
}

const CHECK_TIMEOUT_MS = 3000;

async function runChecks(checks: ReadinessCheck[]): Promise<{ ok: boolean; degraded: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async ({ name, check, required = true }) => {
      try {
        await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref())]);
        return [name, 'ok', required] as const;
      } catch (error) {
        return [name, `error: ${(error as Error).message}`, required] as const;
      }
    }),
  );
  return {
    ok: results.every(([, s, required]) => s === 'ok' || !required),
    degraded: results.some(([, s]) => s !== 'ok'),
    checks: Object.fromEntries(results.map(([name, s]) => [name, s])),
  };
}

/** The `status` word of a readiness answer. */
export function readinessStatus(r: { ok: boolean; degraded: boolean }): 'ok' | 'degraded' | 'unavailable' {
  if (!r.ok) return 'unavailable';
  return r.degraded ? 'degraded' : 'ok';
}

/**
 * The small HTTP server every worker runs beside its queues: `/metrics` for
 * Prometheus, `/healthz` (the process is alive) and `/readyz` (its
 * dependencies answer). The API serves the same routes through Express.
 */
export async function startHealthServer(opts: { port: number; host?: string; registry: Registry; checks: ReadinessCheck[] }): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const reply = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (url === '/healthz') return reply(200, { status: 'ok' });
    if (url === '/readyz') {
      void runChecks(opts.checks).then((r) => reply(r.ok ? 200 : 503, { status: readinessStatus(r), checks: r.checks }));
      return;
    }
    if (url === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => reply(200, text, opts.registry.contentType))
        .catch((error: Error) => reply(500, { error: { code: 'metrics_failed', message: error.message } }));
      return;
    }
    reply(404, { error: { code: 'not_found', message: `no route ${url}` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export { runChecks };
