import { activeTraceCarrier, tracingEnabled, withSpan, type ErrorVerdict, type TraceCarrier } from '@kbflow/observability';
import type { Job } from 'bullmq';
import type { QueueName } from './catalog.ts';
import { priorityClass } from './fair-scheduling.ts';
import { DEFAULT_ATTEMPTS } from './job-options.ts';

/**
 * Job data with the active trace context (`traceparent`, `tracestate`) of
 * the code that enqueues it, so the consumer's span continues that trace.
 * The active context wins over one already in `data` (a payload copied from
 * another job); with tracing off, `data` is returned untouched.
 */
export function withTraceContext<D>(data: D): D {
  if (!tracingEnabled() || typeof data !== 'object' || data === null) return data;
  const carrier = activeTraceCarrier();
  return carrier.traceparent === undefined ? data : { ...data, ...carrier };
}

/** The carrier a job was enqueued with (fields the catalog lets every payload have). */
function carrierOf(job: Job): TraceCarrier {
  const data = (job.data ?? {}) as Record<string, unknown>;
  return {
    ...(typeof data.traceparent === 'string' ? { traceparent: data.traceparent } : {}),
    ...(typeof data.tracestate === 'string' ? { tracestate: data.tracestate } : {}),
  };
}

/**
 * What an error thrown out of createWorker's processor means for the span.
 * By then createWorker has classified it: a DelayedError is a deferral, a
 * RateLimitError sends the job back untouched, an UnrecoverableError fails
 * the job for good, anything else fails this attempt.
 */
function jobVerdict(job: Job, error: unknown): ErrorVerdict {
  const name = (error as Error | undefined)?.name;
  if (name === 'DelayedError') return { failed: false, attributes: { 'kbflow.job.outcome': 'deferred' } };
  if (name === 'RateLimitError') return { failed: false, attributes: { 'kbflow.job.outcome': 'rate_limited' } };
  const final = name === 'UnrecoverableError' || job.attemptsMade + 1 >= (job.opts.attempts ?? DEFAULT_ATTEMPTS);
  return { failed: true, attributes: { 'kbflow.job.outcome': final ? 'failed' : 'retried' } };
}

/**
 * Wraps a BullMQ processor so each attempt of each job is a span, the child
 * of the context the job was enqueued in (its data's `traceparent`), with
 * the queue, job name, id, attempt and outcome. With tracing off the
 * processor is returned as it is: nothing is added per job.
 */
export function traceJobs<R>(queue: QueueName, processor: (job: Job, token?: string) => Promise<R>): (job: Job, token?: string) => Promise<R> {
  if (!tracingEnabled()) return processor;
  return (job, token) =>
    withSpan(
      `process ${queue}/${job.name}`,
      {
        kind: 'consumer',
        parent: carrierOf(job),
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': queue,
          'messaging.message.id': job.id,
          'kbflow.job.name': job.name,
          'kbflow.job.attempt': job.attemptsMade + 1,
          // The class, not the place in a fair queue's band (fair-scheduling.ts): comparable across jobs and tenants.
          'kbflow.job.priority': priorityClass(job.opts.priority) ?? job.opts.priority,
          'kbflow.correlation_id': typeof job.data?.correlationId === 'string' ? job.data.correlationId : undefined,
          'kbflow.tenant_id': typeof job.data?.tenantId === 'string' ? job.data.tenantId : undefined,
        },
        verdict: (error) => jobVerdict(job, error),
      },
      async (span) => {
        const result = await processor(job, token);
        span.setAttributes({ 'kbflow.job.outcome': 'completed' });
        return result;
      },
    );
}
