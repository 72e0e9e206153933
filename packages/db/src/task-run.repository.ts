import type { Db } from './client.ts';
import { Prisma } from './generated/client.ts';
import type { CrawlParams, IngestParams, IngestProgress, PageChange, PageStatus, TaskState, TaskType } from './task-types.ts';
import { ACTIVE_TASK_STATES } from './task-types.ts';
import { asWebhook, type WebhookConfig } from './webhook-config.ts';

/** Why a crawl stopped. */
export type StopReason = 'done' | 'maxPages' | 'quota' | 'cancelled' | 'failed';

/**
 * What a crawl run changed (issue 11 item 2). `unchanged` counts pages whose
 * content hash matched the stored one and pages the server answered 304 for
 * (`change = 'not-modified'`, `bytes = 0`; the task's progress tells the two
 * apart); `deleted` counts pages found gone (404/410, or redirected out of
 * scope) and, once a complete run pruned, the pages it did not reach.
 */
export interface RunReport {
  new: number;
  changed: number;
  unchanged: number;
  /** Of `unchanged`, the pages the server answered 304 for (nothing downloaded). */
  notModified: number;
  deleted: number;
  failed: number;
  bytesFetched: number;
  /** From the first page picked up to the end (or to now while running). */
  durationMs: number;
  /** Set once the task has finished. */
  stopReason?: StopReason;
}

export interface TaskProgress {
  discovered: number;
  scraped: number;
  skipped: number;
  embedded: number;
  failed: number;
  /** Skipped pages the server answered 304 for (If-None-Match / If-Modified-Since): nothing downloaded. */
  notModified: number;
  /** Skipped pages downloaded whose content hash had not changed. */
  unchangedByHash: number;
  /** Pages that answered 404/410 or redirected out of scope, whose stored document was removed. */
  deletedGone: number;
  /** deleteUnreached: stored pages within the crawl's scope it did not reach, removed when it finished. */
  deletedUnreached: number;
  /** Pages dropped by a cancel before they were fetched. */
  cancelled: number;
}

const EMPTY_PROGRESS: TaskProgress = {
  discovered: 0,
  scraped: 0,
  skipped: 0,
  embedded: 0,
  failed: 0,
  notModified: 0,
  unchangedByHash: 0,
  deletedGone: 0,
  deletedUnreached: 0,
  cancelled: 0,
};

export interface TaskView {
  id: string;
  tenantId: string;
  knowledgeBaseId: string;
  type: TaskType;
  state: TaskState;
  params: CrawlParams;
  progress: TaskProgress;
  error: string | null;
  /** deleteUnreached was asked and removed nothing: why (`maxPages`, failed pages...). */
  pruneSkipped: string | null;
  /** Set on ingest tasks (where `params` and `progress` are not a crawl's). */
  ingest?: IngestProgress;
  /** Final counts once finished (ingest tasks). */
  result: unknown;
  /** The W3C trace id of the submitting request, when it was traced. */
  traceId: string | null;
  /** The source this task is a run (or purge) of. */
  sourceId: string | null;
  /** Crawl-like tasks: what the run changed. */
  report?: RunReport;
  /** A one-shot crawl's own webhook (a source's runs use the source's). */
  webhook: WebhookConfig | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * What a task run looks like from outside: its view, its page counts and
 * its run report, the tenant's listings, cancel and the final settle of a
 * crawl-like task. Reached through TaskRepository, which forwards to it.
 */
export class TaskRunRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** A task of the tenant, as the API shows it (progress and report included). */
  async find(tenantId: string, id: string): Promise<TaskView | undefined> {
    const task = await this.db.task.findFirst({ where: { id, tenantId } });
    if (!task) return undefined;
    return this.#view(task);
  }

  async #view(task: TaskRow): Promise<TaskView> {
    const id = task.id;
    const isIngest = task.type === 'ingest';
    const crawlLike = task.type !== 'ingest' && task.type !== 'purge';
    return {
      id: task.id,
      tenantId: task.tenantId,
      knowledgeBaseId: task.knowledgeBaseId,
      type: task.type as TaskType,
      state: task.state as TaskState,
      params: task.params as unknown as CrawlParams,
      progress: crawlLike ? { ...(await this.progress(id)), deletedUnreached: task.deletedUnreached } : { ...EMPTY_PROGRESS },
      error: task.error,
      pruneSkipped: task.pruneSkipped,
      ...(isIngest ? { ingest: await this.ingestProgress(id, task.params as unknown as IngestParams) } : {}),
      result: task.result,
      traceId: task.traceId,
      sourceId: task.sourceId,
      ...(crawlLike ? { report: await this.report(task) } : {}),
      webhook: asWebhook(task.webhook),
      createdAt: task.createdAt,
      startedAt: task.startedAt,
      finishedAt: task.finishedAt,
    };
  }

  /** An ingest task's counts; `embedded` = its documents indexed so far. */
  async ingestProgress(taskId: string, params: IngestParams): Promise<IngestProgress> {
    const embedded = await this.db.document.count({ where: { taskId, status: 'indexed' } });
    return { ...params, embedded };
  }

  /**
   * Counts per page status; `scraped` includes pages already embedded.
   * `deletedUnreached` is the task's own count (its pages have no rows): 0 here, see {@link find}.
   */
  async progress(taskId: string): Promise<TaskProgress> {
    const rows = await this.db.taskPage.groupBy({ by: ['status', 'change'], where: { taskId }, _count: { _all: true } });
    const count = (s: PageStatus) => rows.reduce((n, r) => n + (r.status === s ? r._count._all : 0), 0);
    const skippedAs = (c: PageChange) => rows.reduce((n, r) => n + (r.status === 'skipped' && r.change === c ? r._count._all : 0), 0);
    return {
      discovered: rows.reduce((n, r) => n + r._count._all, 0),
      scraped: count('scraped') + count('embedded'),
      skipped: count('skipped'),
      embedded: count('embedded'),
      failed: count('failed'),
      notModified: skippedAs('not-modified'),
      unchangedByHash: skippedAs('unchanged'),
      deletedGone: count('deleted'),
      deletedUnreached: 0,
      cancelled: count('cancelled'),
    };
  }

  /** A crawl-like task's run report: one aggregate over its pages. */
  async report(task: Pick<TaskRow, 'id' | 'state' | 'maxPagesReached' | 'quotaReached' | 'startedAt' | 'finishedAt' | 'deletedUnreached'>): Promise<RunReport> {
    const [row] = await this.db.$queryRaw<
      { new: number; changed: number; unchanged: number; not_modified: number; deleted: number; failed: number; bytes: bigint | null }[]
    >`
      SELECT count(*) FILTER (WHERE change = 'new')::int AS new,
             count(*) FILTER (WHERE change = 'changed')::int AS changed,
             count(*) FILTER (WHERE change IN ('unchanged', 'not-modified'))::int AS unchanged,
             count(*) FILTER (WHERE change = 'not-modified')::int AS not_modified,
             count(*) FILTER (WHERE change = 'deleted')::int AS deleted,
             count(*) FILTER (WHERE status = 'failed')::int AS failed,
             sum(bytes) AS bytes
      FROM task_pages WHERE task_id = ${task.id}::uuid`;
    const end = task.finishedAt ?? new Date();
    const report: RunReport = {
      new: row?.new ?? 0,
      changed: row?.changed ?? 0,
      unchanged: row?.unchanged ?? 0,
      notModified: row?.not_modified ?? 0,
      // Pages found gone, and those a complete run removed as unreached (no page row of theirs).
      deleted: (row?.deleted ?? 0) + task.deletedUnreached,
      failed: row?.failed ?? 0,
      bytesFetched: Number(row?.bytes ?? 0),
      durationMs: task.startedAt ? Math.max(0, end.getTime() - task.startedAt.getTime()) : 0,
    };
    const stopReason = stopReasonOf(task);
    return stopReason ? { ...report, stopReason } : report;
  }

  /**
   * Asks a crawl-like task to stop: `cancelling` at once, so scrape jobs
   * still queued drop their page at pickup (without a fetch or an attempt)
   * and no link is claimed any more; the crawl's flow parent then settles
   * it `cancelled` (see {@link finish}) once nothing of it is queued.
   * Returns the state it was in, or undefined for no such task.
   */
  async requestCancel(tenantId: string, id: string): Promise<TaskState | undefined> {
    const task = await this.db.task.findFirst({ where: { id, tenantId }, select: { state: true, type: true } });
    if (!task) return undefined;
    if (task.state === 'queued' || task.state === 'running') {
      const updated = await this.db.task.updateMany({ where: { id, state: { in: ['queued', 'running'] } }, data: { state: 'cancelling' } });
      if (updated.count === 1) return task.state as TaskState;
      return this.requestCancel(tenantId, id);
    }
    return task.state as TaskState;
  }

  /**
   * The tenant's tasks, newest first, filtered; keyset-paginated by
   * (createdAt, id): `after` is the last task of the previous page.
   */
  async list(
    tenantId: string,
    filter: { state?: TaskState; type?: TaskType; sourceId?: string; since?: Date; limit: number; after?: { createdAt: Date; id: string } },
  ): Promise<TaskView[]> {
    const where: Prisma.TaskWhereInput = {
      tenantId,
      ...(filter.state ? { state: filter.state } : {}),
      ...(filter.type ? { type: filter.type } : {}),
      ...(filter.sourceId ? { sourceId: filter.sourceId } : {}),
      ...(filter.since ? { createdAt: { gte: filter.since } } : {}),
    };
    const after = filter.after;
    const rows = await this.db.task.findMany({
      where: after ? { AND: [where, { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }] } : where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return Promise.all(rows.map((row) => this.#view(row)));
  }

  /** A task of the tenant by id, for the pagination cursor. */
  async cursorOf(tenantId: string, id: string): Promise<{ createdAt: Date; id: string } | undefined> {
    const row = await this.db.task.findFirst({ where: { id, tenantId }, select: { id: true, createdAt: true } });
    return row ?? undefined;
  }

  /** The newest run of each given source, for source listings. */
  async latestRuns(tenantId: string, sourceIds: string[]): Promise<Map<string, TaskView>> {
    const out = new Map<string, TaskView>();
    if (sourceIds.length === 0) return out;
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT DISTINCT ON (source_id) id FROM tasks
      WHERE tenant_id = ${tenantId}::uuid AND type = 'crawl' AND source_id = ANY(${sourceIds}::uuid[])
      ORDER BY source_id, created_at DESC, id DESC`;
    const tasks = await this.db.task.findMany({ where: { id: { in: rows.map((r) => r.id) } } });
    for (const task of tasks) out.set(task.sourceId!, await this.#view(task));
    return out;
  }

  /**
   * Settles a task once its flow has finished: completed when at least one
   * page was stored or found unchanged, failed when every page failed.
   * `failWith` ends it failed with that reason whatever its pages did (the
   * task reaper: a task that could no longer progress); a cancelled task
   * still ends cancelled.
   */
  async finish(taskId: string, opts: { failWith?: string } = {}): Promise<{ state: TaskState; progress: TaskProgress; report: RunReport }> {
    const before = await this.db.task.findUnique({ where: { id: taskId }, select: { state: true } });
    const cancelled = before?.state === 'cancelling' || before?.state === 'cancelled';
    // Pages not final here never got through (a job failed for good before
    // recording anything, or embedding did not complete): they count as
    // failed, so a finished task always shows final numbers. In a cancelled
    // crawl, the pages never picked up were dropped by the cancel.
    await this.db.taskPage.updateMany({
      where: { taskId, status: 'discovered' },
      data: cancelled ? { status: 'cancelled', error: 'cancelled before it was fetched' } : { status: 'failed', error: 'not processed' },
    });
    await this.db.taskPage.updateMany({ where: { taskId, status: 'scraped' }, data: { status: 'failed', error: 'embedding did not complete' } });
    const progress = await this.progress(taskId);
    const succeeded = progress.embedded + progress.skipped + progress.deletedGone > 0 || progress.discovered === 0;
    const state: TaskState = cancelled ? 'cancelled' : succeeded && opts.failWith === undefined ? 'completed' : 'failed';
    let error: string | null = null;
    if (state === 'failed' && opts.failWith !== undefined) error = opts.failWith.slice(0, 2000);
    else if (state === 'failed') {
      const page = await this.db.taskPage.findFirst({ where: { taskId, status: 'failed' }, orderBy: { id: 'asc' } });
      error = page?.error ?? 'every page failed';
    }
    const finishedAt = new Date();
    await this.db.task.updateMany({ where: { id: taskId, state: { in: ACTIVE_TASK_STATES } }, data: { state, error, finishedAt } });
    const task = await this.db.task.findUniqueOrThrow({ where: { id: taskId } });
    const report = await this.report(task);
    // The final report is kept with the task (and so in the source's run history).
    await this.db.task.update({ where: { id: taskId }, data: { result: report as unknown as Prisma.InputJsonValue } });
    return { state: task.state as TaskState, progress, report };
  }
}

type TaskRow = Prisma.TaskGetPayload<object>;

function stopReasonOf(task: Pick<TaskRow, 'state' | 'maxPagesReached' | 'quotaReached'>): StopReason | undefined {
  switch (task.state) {
    case 'cancelled':
      return 'cancelled';
    case 'failed':
      return 'failed';
    case 'completed':
      // The quota first: a crawl cut by both would not have gone further with a larger maxPages.
      if (task.quotaReached) return 'quota';
      return task.maxPagesReached ? 'maxPages' : 'done';
    default:
      return undefined;
  }
}
