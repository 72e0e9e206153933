import { decodeError, describeErrorData } from '@kbflow/errors';
import type { TaskRepository } from '@kbflow/db';
import { crawlJobId, emitWebhookEvent, Priority, QueueName, type JobProducer, type Redis, type WebhookEventSource } from '@kbflow/queues';
import type { Job } from 'bullmq';
import type { JobContext } from '@kbflow/queues';

export interface TaskReaperDeps {
  tasks: TaskRepository;
  producer: JobProducer;
  redis: Redis;
  /** A task is a candidate once nothing of it changed for this long (KBFLOW_TASK_REAPER_GRACE_MS). */
  graceMs: number;
  /** Candidates looked at per run (the oldest first). */
  limit?: number;
  /** A failed (or cancelled) task's webhook event, as the aggregator sends when a flow ends it (docs/webhooks.md). */
  webhooks?: WebhookEventSource;
}

/** What the reaper did to one task: its completion re-driven once, or the task failed with the reason. */
export interface ReapedTask {
  taskId: string;
  action: 'redriven' | 'failed';
  /** Why the task could not progress on its own. */
  why: string;
}

/** How long the reaper remembers having re-driven a task's completion. */
const REDRIVE_MEMORY_MS = 7 * 24 * 3600 * 1000;
/** Children looked up per waiting parent: beyond that many pending children, the flow is taken as alive. */
const CHILDREN_CHECKED = 1000;

/**
 * Finds crawl-like tasks that can no longer progress and finishes them. A
 * task ends only when its `complete-crawl` flow parent runs (on
 * `aggregate`); when that job is gone (removed, lost with Redis data),
 * failed for good (dead-lettered, e.g. during a database outage before
 * workers waited those out), completed without settling the task, or
 * waits on children none of which exists any more, nothing will ever run
 * it, and the task would read `running` forever.
 *
 * Only tasks on which nothing changed for `graceMs` are looked at (a long
 * crawl's pages keep updating), and a parent that is waiting, delayed,
 * active, or waiting on children that still exist is left alone. The
 * first time, the completion is re-driven: a failed parent is retried with
 * its attempts reset (its children have all finished, or it would not have
 * run), a completed one or one whose children are gone is replaced, a
 * missing one is enqueued again under the same job id, so the aggregator
 * finishes the task as it would have (pages never processed count as
 * failed, prune and compaction as usual). Should the task still be stuck
 * a grace period later, it is failed with the reason in its `error`.
 * The re-drive is remembered in Redis for a week (a marker per task).
 */
export async function reapTasks(deps: TaskReaperDeps, log: JobContext['log']): Promise<ReapedTask[]> {
  const candidates = await deps.tasks.quietActiveTasks(new Date(Date.now() - deps.graceMs), deps.limit ?? 100);
  const reaped: ReapedTask[] = [];
  const aggregate = deps.producer.queue(QueueName.aggregate);
  for (const task of candidates) {
    const job = (await aggregate.getJob(crawlJobId(task.id))) as Job | undefined;
    const why = await stuckReason(job, deps.redis);
    if (why === undefined) continue;
    const marker = `${deps.producer.prefix}:task-reaper:${task.id}`;
    const first = (await deps.redis.set(marker, new Date().toISOString(), 'PX', REDRIVE_MEMORY_MS, 'NX')) === 'OK';
    if (first) {
      await redrive(deps.producer, job, task);
      log.warn({ taskId: task.id, why }, 'task could not progress: its completion was re-driven');
      reaped.push({ taskId: task.id, action: 'redriven', why });
    } else {
      const minutes = Math.round(deps.graceMs / 60_000);
      const reason = `stopped making progress (nothing changed for ${minutes} min) and could not finish: ${why}; re-driving its completion did not help`;
      const finished = await deps.tasks.finish(task.id, { failWith: reason });
      if (deps.webhooks)
        await emitWebhookEvent({ webhooks: deps.webhooks, producer: deps.producer }, task.id, finished.state === 'failed' ? 'run.failed' : 'run.completed');
      log.warn({ taskId: task.id, why }, 'task could not progress: failed');
      reaped.push({ taskId: task.id, action: 'failed', why });
    }
  }
  return reaped;
}

/** Why the task's flow can no longer end it, or undefined while it still can. */
async function stuckReason(job: Job | undefined, redis: Redis): Promise<string | undefined> {
  if (!job) return 'its completion job (complete-crawl) is gone';
  const state = await job.getState();
  switch (state) {
    case 'failed':
      return `its completion job (complete-crawl) failed: ${job.failedReason ? describeErrorData(decodeError(job.failedReason)) : 'no reason recorded'}`;
    case 'completed':
      return 'its completion job (complete-crawl) completed without settling the task';
    case 'waiting-children': {
      const { unprocessed = [] } = await job.getDependencies({ unprocessed: { count: CHILDREN_CHECKED } });
      if (unprocessed.length >= CHILDREN_CHECKED) return undefined;
      // The keys are the children's job hashes: one that exists will still run and notify the parent.
      const alive = unprocessed.length > 0 ? await redis.exists(...unprocessed) : 0;
      return alive > 0 ? undefined : 'the jobs its completion waits for are gone';
    }
    case 'unknown':
      return 'its completion job (complete-crawl) is gone';
    case 'waiting':
    case 'prioritized':
    case 'delayed':
    case 'active':
      // The aggregator will run it.
      return undefined;
  }
}

async function redrive(producer: JobProducer, job: Job | undefined, task: { id: string; tenantId: string }): Promise<void> {
  if (job && (await job.getState()) === 'failed') {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return;
  }
  if (job) await job.remove();
  await producer.enqueue(
    QueueName.aggregate,
    'complete-crawl',
    { tenantId: task.tenantId, taskId: task.id, correlationId: task.id },
    { priority: Priority.NORMAL, jobId: crawlJobId(task.id) },
  );
}
