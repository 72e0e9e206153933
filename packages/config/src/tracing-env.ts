import { z } from 'zod';

/** The samplers of the OpenTelemetry specification's `OTEL_TRACES_SAMPLER`, as named there. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/**
 * Tracing (docs/tracing.md): off unless an OTLP endpoint is set. The names
 * and meanings are OpenTelemetry's standard ones, so an operator's usual
 * settings work unchanged.
 */
export const tracingEnvShape = {
  /**
   * Base URL of an OTLP/HTTP receiver (a collector, Jaeger, Tempo); spans go
   * to `<endpoint>/v1/traces` as JSON. Unset: tracing is off and none of the
   * OpenTelemetry SDK is loaded.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The `service.name` of this process's spans; unset: the service (api, scraper, ...). */
  OTEL_SERVICE_NAME: z.string().min(1).max(255).optional(),
  /** Which traces are kept; parent-based samplers follow the decision in an incoming traceparent. */
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  /** The ratio of the *traceidratio samplers, 0 to 1 (ignored by the others). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
};

export type TracingEnv = z.infer<z.ZodObject<typeof tracingEnvShape>>;

/** The tracing options `startTracing` takes (packages/observability: TracingOptions). */
export function tracingOptions(env: TracingEnv) {
  return {
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: env.OTEL_SERVICE_NAME,
    sampler: env.OTEL_TRACES_SAMPLER,
    samplerRatio: env.OTEL_TRACES_SAMPLER_ARG,
  };
}
