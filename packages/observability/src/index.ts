export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { startHealthServer, runChecks, readinessStatus, type HealthServer, type ReadinessCheck } from './health-server.ts';
export { ShutdownManager } from './shutdown-manager.ts';
export { startupFailed } from './startup.ts';
export {
  startTracing,
  tracingEnabled,
  startSpan,
  withSpan,
  activeTraceCarrier,
  activeTraceId,
  MAX_TRACESTATE_LENGTH,
  type Tracing,
  type TracingOptions,
  type TraceCarrier,
  type SpanAttributes,
  type SpanHandle,
  type ManualSpan,
  type SpanKindName,
  type SpanOptions,
  type ErrorVerdict,
} from './tracing.ts';
