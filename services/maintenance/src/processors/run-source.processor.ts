import type { SourceRepository, TaskRepository } from '@kbflow/db';
import { crawlFlow, removeSourceSchedule, upsertSourceSchedule, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';

export interface RunSourceDeps {
  sources: Pick<SourceRepository, 'get' | 'startRun' | 'allSchedules'>;
  tasks: Pick<TaskRepository, 'deleteTask'>;
  producer: JobProducer;
}

export type RunSourceResult =
  | { outcome: 'started'; taskId: string }
  | { outcome: 'skipped'; reason: 'run-in-progress'; activeTaskId?: string }
  | { outcome: 'skipped'; reason: 'source-gone' };

/**
 * A scheduled firing of a source: starts a run (a crawl task linked to the
 * source, the same flow as `POST /v1/crawl`). A firing while a run is in
 * progress is skipped, not queued behind it: the run in progress already
 * brings the site up to date, and the next firing comes on schedule. The
 * database decides (see SourceRepository.startRun), so replicas cannot both
 * start one.
 */
export async function runSource(data: JobData<'maintenance', 'run-source'>, ctx: JobContext, deps: RunSourceDeps): Promise<RunSourceResult> {
  const source = await deps.sources.get(data.sourceId);
  if (!source) {
    // Deleted between the firing and now (DELETE removes the scheduler too; this heals a lost removal).
    await removeSourceSchedule(deps.producer, data.sourceId);
    return { outcome: 'skipped', reason: 'source-gone' };
  }
  if (source.tenantId !== data.tenantId) {
    // Not this tenant's source: for that tenant it does not exist. Its
    // scheduler is the owner's (keyed by the source id), so it stays.
    ctx.log.warn({ sourceId: source.id }, "source run skipped: the job names another tenant than the source's");
    return { outcome: 'skipped', reason: 'source-gone' };
  }
  const run = await deps.sources.startRun(source, 'schedule');
  if (!run.started) {
    ctx.log.info({ sourceId: source.id, activeTaskId: run.activeTaskId }, 'source run skipped: a run is in progress');
    return { outcome: 'skipped', reason: 'run-in-progress', ...(run.activeTaskId ? { activeTaskId: run.activeTaskId } : {}) };
  }
  try {
    await deps.producer.enqueueFlow(
      crawlFlow({ tenantId: source.tenantId, taskId: run.taskId, seeds: [source.url], engine: source.engine, deleteUnreached: source.deleteUnreached }),
    );
  } catch (error) {
    // No run left queued without jobs: it would block the source's next runs.
    await deps.tasks.deleteTask(run.taskId);
    throw error;
  }
  ctx.log.info({ sourceId: source.id, taskId: run.taskId }, 'source run started');
  return { outcome: 'started', taskId: run.taskId };
}

/**
 * Registers every source's job scheduler at start. Schedulers live in Redis
 * and survive restarts by themselves; this restores them when Redis lost
 * them (a flush, a new instance), from the sources table, which is the
 * truth. Idempotent: re-registering a scheduler adds no run.
 */
export async function registerSourceSchedules(deps: Pick<RunSourceDeps, 'sources' | 'producer'>): Promise<number> {
  let count = 0;
  for await (const page of deps.sources.allSchedules()) {
    for (const source of page) {
      await upsertSourceSchedule(deps.producer, source);
      count++;
    }
  }
  return count;
}
