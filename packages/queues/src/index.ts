export { Priority, type PriorityName, type PriorityValue } from './priorities.ts';
export { FAIR_QUEUES, FairScheduler, BAND_WIDTH, fairPriority, priorityClass, type FairGroup } from './fair-scheduling.ts';
export {
  QueueName,
  ALL_QUEUES,
  jobSchemas,
  traceContextShape,
  jobNamesOf,
  parseJobData,
  retrievalFilters,
  SCHEDULE_NAMES,
  WEBHOOK_EVENTS,
  type WebhookEvent,
  type RetrievalFilters,
  type ScheduleName,
  type JobName,
  type JobData,
  type JobInput,
} from './catalog.ts';
export { DEFAULT_JOB_OPTIONS, DEFAULT_ATTEMPTS, BACKOFF_TYPE, computeBackoff, queueOptions } from './job-options.ts';
export { JobDeferral, MAX_DEFERRAL_MS, rateLimitDelay, MAX_RATE_LIMIT_MS } from './errors.ts';
export { createRedis, type Redis } from './connection.ts';
export { JobProducer, type EnqueueOptions, type FlowNode } from './producer.ts';
export { createWorker, someHandlers, type JobContext, type JobHandler, type JobHandlers, type CreateWorkerOptions } from './create-worker.ts';
export { jobMetrics } from './job-metrics.ts';
export { traceJobs, withTraceContext } from './job-tracing.ts';
export { startHeartbeat, listWorkers, KBFLOW_VERSION, type WorkerInfo } from './heartbeat.ts';
export { runWorkerService, type WorkerServiceOptions } from './worker-service.ts';
export {
  createServiceClients,
  createWorkerRuntime,
  type ServiceClientOptions,
  type ServiceClients,
  type WorkerRuntimeOptions,
  type WorkerRuntime,
  type RuntimeWorkerOptions,
  type CloseStep,
} from './worker-runtime.ts';
export {
  QueryStreamWriter,
  readQueryStreamEvents,
  requestQueryCancel,
  watchQueryCancel,
  queryStreamKey,
  queryCancelKey,
  type QueryStreamEvent,
} from './query-stream.ts';
export { onTenantPurged, tenantPurgedChannel } from './tenant-events.ts';
export { LeaseLimiter, type Lease } from './lease-limiter.ts';
export { TenantSlots, TENANT_LIMITED_JOBS, TENANT_DEFERRAL_MS, tenantLimitWaitingKey } from './tenant-slots.ts';
export {
  DeadLetters,
  DEAD_LETTER_ORIGINS,
  DEAD_LETTER_STATES,
  type DeadLetterRecord,
  type DeadLetterRetention,
  type DeadLetterSweepReport,
} from './dead-letters.ts';
export { crawlFlow, crawlJobId } from './crawl-flow.ts';
export {
  parseSourceSchedule,
  sourceSchedulerKey,
  upsertSourceSchedule,
  removeSourceSchedule,
  nextSourceRun,
  scheduleIntervalMs,
  DEFAULT_SOURCE_MIN_INTERVAL_MS,
  type SourceScheduleInput,
  type SchedulerRepeat,
} from './source-schedule.ts';
export { emitWebhookEvent, enqueueWebhookEvent, webhookDeliveryId, WEBHOOK_ATTEMPTS, type WebhookEventJob, type WebhookEventSource } from './webhook-events.ts';
