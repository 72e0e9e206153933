import type { Db } from './client.ts';
import type { TaskRepository } from './task.repository.ts';
import { asWebhook, type WebhookConfig, type WebhookEventName } from './webhook-config.ts';

/** Attempts kept per target (a source, or a one-shot crawl): older ones are deleted as new ones are written. */
export const DELIVERIES_KEPT = 20;

/** One delivery attempt, as written by the maintenance worker. */
export interface DeliveryAttempt {
  tenantId: string;
  targetId: string;
  taskId: string;
  deliveryId: string;
  event: WebhookEventName;
  url: string;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export interface DeliveryView extends Omit<DeliveryAttempt, 'tenantId' | 'targetId'> {
  createdAt: Date;
}

/**
 * Webhooks of sources and one-shot crawls (docs/webhooks.md): which event
 * of a task goes where, and the log of delivery attempts. A source's runs
 * use the source's webhook as it is when the event happens and when each
 * attempt is made, so a PATCH (a new secret, another URL, none) applies at once.
 */
export class WebhookRepository {
  private readonly db: Db;
  private readonly tasks: TaskRepository;

  constructor(db: Db, tasks: TaskRepository) {
    this.db = db;
    this.tasks = tasks;
  }

  /** The webhook a task's events go to now, and whose log they are in; undefined when it has none. */
  async configOf(taskId: string): Promise<{ config: WebhookConfig; targetId: string } | undefined> {
    const task = await this.db.task.findUnique({ where: { id: taskId }, select: { webhook: true, sourceId: true, tenantId: true } });
    if (!task) return undefined;
    const own = asWebhook(task.webhook);
    if (own) return { config: own, targetId: taskId };
    if (!task.sourceId) return undefined;
    const source = await this.db.source.findFirst({ where: { id: task.sourceId, tenantId: task.tenantId }, select: { webhook: true } });
    const config = asWebhook(source?.webhook);
    return config ? { config, targetId: task.sourceId } : undefined;
  }

  /**
   * The event to deliver for a task's state change, with its body, or
   * undefined when the task has no webhook or it does not subscribe to
   * the event. Built now, so that the body says what was true when it happened.
   */
  async eventFor(
    taskId: string,
    event: WebhookEventName,
  ): Promise<{ tenantId: string; taskId: string; targetId: string; event: WebhookEventName; payload: Record<string, unknown> } | undefined> {
    const target = await this.configOf(taskId);
    if (!target || !target.config.events.includes(event)) return undefined;
    const task = await this.db.task.findUnique({ where: { id: taskId }, include: { knowledgeBase: { select: { slug: true } } } });
    if (!task) return undefined;
    const report = await this.tasks.report(task);
    return {
      tenantId: task.tenantId,
      taskId,
      targetId: target.targetId,
      event,
      payload: {
        event,
        taskId,
        sourceId: task.sourceId,
        knowledgeBase: task.knowledgeBase.slug,
        state: task.state,
        report,
        ...(task.error ? { error: task.error } : {}),
        createdAt: task.createdAt.toISOString(),
        startedAt: task.startedAt?.toISOString() ?? null,
        finishedAt: task.finishedAt?.toISOString() ?? null,
        occurredAt: new Date().toISOString(),
      },
    };
  }

  /** Writes an attempt and trims its target's log to the newest {@link DELIVERIES_KEPT}. */
  async recordAttempt(a: DeliveryAttempt): Promise<void> {
    await this.db.webhookDelivery.create({
      data: {
        tenantId: a.tenantId,
        targetId: a.targetId,
        taskId: a.taskId,
        deliveryId: a.deliveryId,
        event: a.event,
        url: a.url.slice(0, 2048),
        attempt: a.attempt,
        outcome: a.outcome,
        statusCode: a.statusCode ?? null,
        error: a.error?.slice(0, 500) ?? null,
        durationMs: Math.max(0, Math.round(a.durationMs)),
      },
    });
    await this.db.$executeRaw`
      DELETE FROM webhook_deliveries WHERE target_id = ${a.targetId}::uuid AND id < (
        SELECT min(id) FROM (SELECT id FROM webhook_deliveries WHERE target_id = ${a.targetId}::uuid ORDER BY id DESC LIMIT ${DELIVERIES_KEPT}) AS kept)`;
  }

  /** The newest attempts of a target (a source, or a crawl task), or of one task's events; tenant-scoped. */
  async list(tenantId: string, by: { targetId: string } | { taskId: string }): Promise<DeliveryView[]> {
    const rows = await this.db.webhookDelivery.findMany({
      where: { tenantId, ...by },
      orderBy: { id: 'desc' },
      take: DELIVERIES_KEPT,
    });
    return rows.map((r) => ({
      taskId: r.taskId,
      deliveryId: r.deliveryId,
      event: r.event as WebhookEventName,
      url: r.url,
      attempt: r.attempt,
      outcome: r.outcome as DeliveryView['outcome'],
      ...(r.statusCode !== null ? { statusCode: r.statusCode } : {}),
      ...(r.error !== null ? { error: r.error } : {}),
      durationMs: r.durationMs,
      createdAt: r.createdAt,
    }));
  }

  /** Removes a source's log (the source is being deleted). */
  async deleteLog(tenantId: string, targetId: string): Promise<void> {
    await this.db.webhookDelivery.deleteMany({ where: { tenantId, targetId } });
  }
}
