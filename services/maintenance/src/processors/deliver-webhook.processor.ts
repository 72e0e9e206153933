import type { WebhookRepository } from '@kbflow/db';
import { AppError, PermanentError } from '@kbflow/errors';
import type { JobContext, JobData } from '@kbflow/queues';
import { webhookSignature } from '../domain/webhook-signature.ts';
import type { SendResult } from '../webhooks/webhook-sender.ts';

export interface DeliverWebhookDeps {
  webhooks: Pick<WebhookRepository, 'configOf' | 'recordAttempt'>;
  send: (url: string, headers: Record<string, string>, body: string) => Promise<SendResult>;
  /** Unix milliseconds; tests pin it. */
  now?: () => number;
}

export type DeliverWebhookResult = { outcome: 'delivered'; statusCode: number; attempt: number } | { outcome: 'skipped'; reason: string };

/**
 * Delivers one event: signs the body with the webhook's secret as it is
 * now (read from PostgreSQL, never carried in the job), POSTs it, and
 * records the attempt in the target's delivery log. A failed attempt
 * throws, so the worker retries it with backoff (WEBHOOK_ATTEMPTS in
 * all); a refused address fails for good. The `Kbflow-Delivery` id is the
 * same on every attempt, so a receiver that got an event whose answer was
 * lost can recognise the retry.
 */
export async function deliverWebhook(data: JobData<'webhook', 'deliver-webhook'>, ctx: JobContext, deps: DeliverWebhookDeps): Promise<DeliverWebhookResult> {
  const target = await deps.webhooks.configOf(data.taskId);
  // Removed or changed by a PATCH since the event: nothing to send it to.
  if (!target) return { outcome: 'skipped', reason: 'the webhook was removed' };
  if (!target.config.events.includes(data.event)) return { outcome: 'skipped', reason: `the webhook no longer subscribes to ${data.event}` };
  const body = JSON.stringify(data.payload);
  const timestamp = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'kbflow-webhooks/1',
    'kbflow-event': data.event,
    'kbflow-delivery': data.deliveryId,
    'kbflow-signature': webhookSignature(target.config.secret, timestamp, body),
  };
  const attempt = ctx.job.attemptsMade + 1;
  const result = await deps.send(target.config.url, headers, body);
  const ok = result.error === undefined && result.statusCode !== undefined;
  await deps.webhooks.recordAttempt({
    tenantId: data.tenantId,
    targetId: data.targetId,
    taskId: data.taskId,
    deliveryId: data.deliveryId,
    event: data.event,
    url: target.config.url,
    attempt,
    outcome: ok ? 'succeeded' : 'failed',
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error !== undefined ? { error: result.error } : {}),
    durationMs: result.durationMs,
  });
  if (ok) return { outcome: 'delivered', statusCode: result.statusCode!, attempt };
  if (result.permanent) throw new PermanentError('webhook_refused', result.error!);
  throw new AppError('webhook_failed', `delivery ${data.deliveryId} attempt ${attempt}: ${result.error}`);
}
