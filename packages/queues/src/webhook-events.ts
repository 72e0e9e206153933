import type { WebhookEvent } from './catalog.ts';
import { Priority } from './priorities.ts';
import type { JobProducer } from './producer.ts';

/**
 * Attempts of one delivery: with the workers' backoff (2^n s, capped at
 * 30 s, jittered) the sixth comes about a minute after the first.
 */
export const WEBHOOK_ATTEMPTS = 6;

/** An event of a task, ready to deliver (built by `WebhookRepository.eventFor`). */
export interface WebhookEventJob {
  tenantId: string;
  taskId: string;
  targetId: string;
  event: WebhookEvent;
  payload: Record<string, unknown>;
}

/**
 * The id of one event of one task: the job id (so an event enqueued twice,
 * by a redelivered job, is delivered once) and the `Kbflow-Delivery` header
 * receivers dedupe on. No ':' (BullMQ refuses it in custom ids).
 */
export function webhookDeliveryId(taskId: string, event: WebhookEvent): string {
  return `${taskId}.${event}`;
}

/** Queues the delivery of an event; HIGH: a person or a pipeline is waiting on it. */
export async function enqueueWebhookEvent(producer: JobProducer, ev: WebhookEventJob, correlationId?: string): Promise<void> {
  const deliveryId = webhookDeliveryId(ev.taskId, ev.event);
  await producer.enqueue(
    'webhook',
    'deliver-webhook',
    { ...ev, deliveryId, payload: { deliveryId, ...ev.payload }, ...(correlationId ? { correlationId } : {}) },
    { priority: Priority.HIGH, jobId: deliveryId, attempts: WEBHOOK_ATTEMPTS },
  );
}

/** Where a task's webhook events come from (`WebhookRepository` in `@kbflow/db`). */
export interface WebhookEventSource {
  eventFor(taskId: string, event: WebhookEvent): Promise<WebhookEventJob | undefined>;
}

/**
 * Queues a task's event when its webhook subscribes to it; nothing when it
 * has none. Safe to call more than once for one event (the job id dedupes),
 * which is what lets callers retry the step that changed the state.
 */
export async function emitWebhookEvent(
  deps: { webhooks: WebhookEventSource; producer: JobProducer },
  taskId: string,
  event: WebhookEvent,
  correlationId?: string,
): Promise<boolean> {
  const ev = await deps.webhooks.eventFor(taskId, event);
  if (!ev) return false;
  await enqueueWebhookEvent(deps.producer, ev, correlationId);
  return true;
}
