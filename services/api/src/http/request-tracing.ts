import { startSpan, tracingEnabled, type TraceCarrier } from '@kbflow/observability';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler } from 'express';

/** Probes and scrapes: a span each every few seconds would bury the traces worth reading. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The matched route pattern (`/v1/tasks/:id`), never the raw path, so span
 * names and metric labels stay a bounded set.
 */
export function matchedRoute(req: Request): string {
  if (req.route?.path) return `${req.baseUrl}${String(req.route.path)}`;
  return req.baseUrl.startsWith('/admin/queues') ? '/admin/queues' : 'unmatched';
}

function carrierOf(headers: IncomingHttpHeaders): TraceCarrier {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const traceparent = first(headers.traceparent);
  const tracestate = first(headers.tracestate);
  return { ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) };
}

/**
 * A server span per request (`POST /v1/crawl`), the root of the trace that
 * the request's jobs continue, or the child of the caller's span when the
 * request carries a W3C `traceparent` header. Hand-written rather than
 * @opentelemetry/instrumentation-http/-express: those patch `http` and
 * `express` through module hooks installed before the modules load, which
 * the api's ES-module entry point imports first; one middleware gives the
 * same span. Undefined when tracing is off: nothing is mounted.
 */
export function traceRequests(): RequestHandler | undefined {
  if (!tracingEnabled()) return undefined;
  return (req, res, next) => {
    if (UNTRACED.has(req.path)) {
      next();
      return;
    }
    const span = startSpan(req.method, {
      kind: 'server',
      parent: carrierOf(req.headers),
      attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol, 'user_agent.original': req.get('user-agent') },
    });
    // Body parsing continues in the request's 'data'/'end' listeners, which
    // run in the socket's context unless bound to the span's.
    span.bind(req);
    span.bind(res);
    res.once('close', () => {
      const route = matchedRoute(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({
        'http.route': route,
        'http.response.status_code': res.statusCode,
        'kbflow.tenant_id': req.principal?.tenantId,
        // A client that leaves early (a closed stream) is not a server error.
        'kbflow.http.client_closed': res.writableFinished ? undefined : true,
      });
      // Server spans fail on 5xx only: a 4xx is the client's error, answered correctly.
      span.end(res.statusCode >= 500 ? `HTTP ${res.statusCode}` : undefined);
    });
    span.run(next);
  };
}
