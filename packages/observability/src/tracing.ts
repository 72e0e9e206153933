import { hostname } from 'node:os';
import type { TraceSampler } from '@kbflow/config';
// Types only: erased at run time, so importing this module loads nothing of OpenTelemetry.
import type * as OtelApi from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';

/** Attribute values a span takes; undefined ones are left out. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** OpenTelemetry's span kinds: server for requests served, client for calls out, consumer for jobs. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/**
 * W3C trace context as carried in job data and HTTP headers: `traceparent`
 * (version, trace id, parent span id, flags) and the vendors' `tracestate`.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** A span kbflow code may annotate; a shared no-op object when tracing is off. */
export interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
}

/** A span started by {@link startSpan}: the caller decides where it is active and when it ends. */
export interface ManualSpan extends SpanHandle {
  /** Runs `fn` with this span as the active one, so spans started inside are its children. */
  run<T>(fn: () => T): T;
  /**
   * Makes the listeners later added to `emitter` run with this span active:
   * an emitter calls its listeners in the context of whoever emits (for an
   * HTTP request, the socket), not of whoever listened.
   */
  bind<E extends NodeJS.EventEmitter>(emitter: E): E;
  updateName(name: string): void;
  /** Ends the span (later calls do nothing); an error or a message marks it failed. */
  end(error?: unknown): void;
}

/** What a span's error means: whether it is a failure, and attributes to add. */
export type ErrorVerdict = { failed: boolean; attributes?: SpanAttributes };

export interface SpanOptions {
  kind?: SpanKindName;
  attributes?: SpanAttributes;
  /**
   * The parent, from a carrier (job data, request headers), instead of the
   * active span. A carrier without a valid traceparent starts a new trace.
   */
  parent?: TraceCarrier;
  /**
   * Contexts this span also works for, as links: a batch that serves many
   * jobs has one parent (the first job) and links to the others.
   */
  links?: TraceCarrier[];
}

/** The running SDK: returned by {@link startTracing} so `main.ts` can flush and stop it at shutdown. */
export interface Tracing {
  shutdown(): Promise<void>;
}

interface ActiveTracing {
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
}

/** Set by startTracing; undefined means tracing is off and every helper below is a pass-through. */
let active: ActiveTracing | undefined;

/** tracestate longer than this is dropped, not carried: the W3C limit every vendor must accept, and the catalog's cap. */
export const MAX_TRACESTATE_LENGTH = 512;

const NOOP_SPAN: ManualSpan = {
  setAttributes: () => undefined,
  run: (fn) => fn(),
  bind: (emitter) => emitter,
  updateName: () => undefined,
  end: () => undefined,
};

/** Where and which spans go; a service's env.ts maps its OTEL_* variables to these. */
export interface TracingOptions {
  /** Base URL of an OTLP/HTTP receiver; absent: tracing is off. */
  endpoint?: string | undefined;
  /** The spans' `service.name`; absent: the service. */
  serviceName?: string | undefined;
  sampler: TraceSampler;
  /** The ratio of the *traceidratio samplers, 0 to 1. */
  samplerRatio: number;
}

/**
 * Starts the OpenTelemetry SDK when an OTLP endpoint is set,
 * and does nothing otherwise. The SDK is imported here, dynamically, only in
 * the first case: with tracing off no SDK module is loaded (only
 * @opentelemetry/api, which prom-client loads anyway;
 * packages/observability/test/tracing.int.test.ts checks it), and every span
 * helper of this module is a branch on one variable.
 *
 * Spans are batched (BatchSpanProcessor defaults: every 5 s or 512 spans)
 * and sent as OTLP/HTTP JSON to `<endpoint>/v1/traces`. JSON rather than
 * protobuf: every OTLP receiver (the Collector, Jaeger, Tempo) accepts both,
 * and JSON needs no protobuf runtime in every service. The context manager
 * is AsyncLocalStorage's, the propagator W3C trace context; both are
 * registered globally, so any library written against @opentelemetry/api
 * joins the same traces.
 *
 * Call it in `main.ts` after the environment is parsed and before any client
 * is built: database clients and workers decide at construction whether to
 * trace.
 */
export async function startTracing(service: string, opts: TracingOptions, log?: Logger): Promise<Tracing | undefined> {
  if (!opts.endpoint) return undefined;
  const [api, sdk, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { defaultResource, resourceFromAttributes }, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
  if (log) {
    // The SDK reports export failures through its diagnostic logger, silent by default.
    const report = (level: 'warn' | 'error') => (message: string) => log[level]({ detail: message }, 'opentelemetry diagnostic');
    api.diag.setLogger(
      { error: report('error'), warn: report('warn'), info: () => undefined, debug: () => undefined, verbose: () => undefined },
      api.DiagLogLevel.WARN,
    );
  }
  const ratio = new sdk.TraceIdRatioBasedSampler(opts.samplerRatio);
  const samplers: Record<TraceSampler, Sampler> = {
    always_on: new sdk.AlwaysOnSampler(),
    always_off: new sdk.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: new sdk.ParentBasedSampler({ root: ratio }),
  };
  // The URL is passed, not left to the exporter's own reading of the
  // environment: kbflow parses its variables once, in env.ts. The signal's
  // path is appended as the specification says for this variable.
  const base = opts.endpoint;
  const url = `${base}${base.endsWith('/') ? '' : '/'}v1/traces`;
  const exporter = new OTLPTraceExporter({ url });
  const provider = new sdk.TracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        'service.name': opts.serviceName ?? service,
        'service.namespace': 'kbflow',
        'host.name': hostname(),
        'process.pid': process.pid,
      }),
    ),
    sampler: samplers[opts.sampler],
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  active = { api, tracer: provider.getTracer('kbflow') };
  log?.info({ endpoint: url, serviceName: opts.serviceName ?? service, sampler: opts.sampler }, 'tracing on');
  return {
    shutdown: async () => {
      // Flushes what is still batched; spans started after this are dropped.
      await provider.shutdown();
      active = undefined;
    },
  };
}

/** Whether spans are being recorded in this process (false until startTracing has run with an endpoint). */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

function contextFor(t: ActiveTracing, parent: TraceCarrier | undefined): OtelApi.Context {
  if (!parent) return t.api.context.active();
  // The carrier alone decides: a job is processed outside any request, and
  // without a traceparent it is the root of a trace of its own.
  return t.api.propagation.extract(t.api.ROOT_CONTEXT, parent);
}

function kindOf(t: ActiveTracing, kind: SpanKindName | undefined): OtelApi.SpanKind {
  switch (kind ?? 'internal') {
    case 'server':
      return t.api.SpanKind.SERVER;
    case 'client':
      return t.api.SpanKind.CLIENT;
    case 'producer':
      return t.api.SpanKind.PRODUCER;
    case 'consumer':
      return t.api.SpanKind.CONSUMER;
    case 'internal':
      return t.api.SpanKind.INTERNAL;
  }
}

function defined(attributes: SpanAttributes | undefined): OtelApi.Attributes {
  const out: OtelApi.Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * Starts a span the caller ends: for work that is not one promise (an HTTP
 * request ends when its response closes, a stream when it is drained).
 */
export function startSpan(name: string, opts: SpanOptions = {}): ManualSpan {
  const t = active;
  if (!t) return NOOP_SPAN;
  const parent = contextFor(t, opts.parent);
  const links = (opts.links ?? []).flatMap((carrier) => {
    const linked = t.api.trace.getSpanContext(t.api.propagation.extract(t.api.ROOT_CONTEXT, carrier));
    return linked && t.api.isSpanContextValid(linked) ? [{ context: linked }] : [];
  });
  const span = t.tracer.startSpan(name, { kind: kindOf(t, opts.kind), attributes: defined(opts.attributes), links }, parent);
  const ctx = t.api.trace.setSpan(parent, span);
  let ended = false;
  return {
    setAttributes: (attributes) => span.setAttributes(defined(attributes)),
    run: (fn) => t.api.context.with(ctx, fn),
    bind: (emitter) => t.api.context.bind(ctx, emitter),
    updateName: (newName) => span.updateName(newName),
    end: (error) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) markFailed(t, span, error);
      span.end();
    },
  };
}

function markFailed(t: ActiveTracing, span: OtelApi.Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: t.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` in a span of its own, active for everything `fn` starts. A throw
 * ends the span as failed (unless `verdict` says the error is an expected
 * outcome, such as a deferred job) and is rethrown unchanged.
 */
export async function withSpan<T>(
  name: string,
  opts: SpanOptions & { verdict?: (error: unknown) => ErrorVerdict },
  fn: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  if (!active) return fn(NOOP_SPAN);
  const span = startSpan(name, opts);
  try {
    const result = await span.run(() => fn(span));
    span.end();
    return result;
  } catch (error) {
    const verdict = opts.verdict?.(error) ?? { failed: true };
    if (verdict.attributes) span.setAttributes(verdict.attributes);
    span.end(verdict.failed ? error : undefined);
    throw error;
  }
}

/**
 * The active span's context as a carrier, to send along with work handed to
 * another process (job data). Empty when tracing is off or nothing is active.
 */
export function activeTraceCarrier(): TraceCarrier {
  const t = active;
  if (!t) return {};
  const carrier: TraceCarrier = {};
  t.api.propagation.inject(t.api.context.active(), carrier);
  if (carrier.tracestate !== undefined && carrier.tracestate.length > MAX_TRACESTATE_LENGTH) delete carrier.tracestate;
  return carrier;
}

/** The trace id of the active span when that trace is being recorded (sampled); undefined otherwise. */
export function activeTraceId(): string | undefined {
  const t = active;
  if (!t) return undefined;
  const context = t.api.trace.getSpanContext(t.api.context.active());
  if (!context || !t.api.isSpanContextValid(context)) return undefined;
  return (context.traceFlags & t.api.TraceFlags.SAMPLED) === t.api.TraceFlags.SAMPLED ? context.traceId : undefined;
}
