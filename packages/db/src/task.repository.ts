import { poolOf, TRANSACTION_OPTIONS, type Db } from './client.ts';
import { onDatabaseConnection } from './database-unavailable.ts';
import { storedPageOf, type StoredPage, type StoredPageRow } from './document.repository.ts';
import { Prisma } from './generated/client.ts';
import { effectiveLimits } from './tenant-limits.ts';
import type { TenantLimits, TenantTier } from './tenant-limits.ts';
import { asWebhook, type WebhookConfig } from './webhook-config.ts';

export type TaskType = 'crawl' | 'scrape' | 'batch-scrape' | 'ingest' | 'purge';
/** `cancelling`: cancel asked, queued pages being dropped; `cancelled` once nothing of it is left queued. */
export type TaskState = 'queued' | 'running' | 'cancelling' | 'completed' | 'failed' | 'cancelled';
export type PageStatus = 'discovered' | 'scraped' | 'skipped' | 'embedded' | 'failed' | 'deleted' | 'cancelled';

/**
 * What a crawl found for a page (`task_pages.change`): new or changed
 * content; not-modified (the server answered 304, nothing downloaded);
 * unchanged (downloaded, same content hash); deleted (404/410 or redirected
 * out of scope: its document was removed).
 */
export type PageChange = 'new' | 'changed' | 'not-modified' | 'unchanged' | 'deleted';
/** Why a crawl stopped. */
export type StopReason = 'done' | 'maxPages' | 'quota' | 'cancelled' | 'failed';

/** States in which a task still has work queued or running. */
export const ACTIVE_TASK_STATES: TaskState[] = ['queued', 'running', 'cancelling'];

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

/** What a crawl-like task was asked to do; stored on the task, read by the scraper. */
export interface CrawlParams {
  seeds: string[];
  maxPages: number;
  maxDepth: number;
  engine: 'auto' | 'http' | 'browser';
  /** Only links on these origins are followed. */
  origins: string[];
  /** RE2 patterns over a link's path (and query): follow only matching / never matching links. */
  includePaths?: string[];
  excludePaths?: string[];
  /** Obey robots.txt (absent on tasks from before it existed: obeyed). */
  respectRobots?: boolean;
  /** Seed the frontier from the site's sitemaps (absent: off). */
  sitemaps?: 'auto' | 'off';
  /** Per-host limits of this task's pages; absent fields take the scraper's defaults. */
  politeness?: { maxConcurrency?: number; minDelayMs?: number };
  /**
   * When the crawl finishes completely, remove the knowledge base's pages
   * within its scope ({@link crawlScopePrefixes}) that it did not reach.
   * Absent on tasks created before it existed: false.
   */
  deleteUnreached?: boolean;
}

/**
 * The scope a crawl's deleteUnreached prunes within, as URL prefixes: the
 * origins it follows links on, each with its trailing slash (so
 * `http://a.test` never matches `http://a.test.evil`). A crawl follows
 * every path of its origins (services/scraper link-filter), so a page of
 * the same origin it did not reach is one the site no longer links to.
 * A crawl's include/exclude path patterns narrow it further (see
 * DocumentRepository.deleteUnreached's `inScope`).
 */
export function crawlScopePrefixes(params: Pick<CrawlParams, 'origins'>): string[] {
  return [...new Set(params.origins.map((o) => `${new URL(o).origin}/`))];
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

/** What an ingest request did with its rows; stored as the task's params when the request is answered. */
export interface IngestParams {
  /** Where the records came from (`documents.source`). */
  source: string;
  received: number;
  /** Valid rows: stored, unchanged or deleted. */
  accepted: number;
  unchanged: number;
  deleted: number;
  invalid: number;
  /** Documents new or changed, handed to the embedder. */
  toEmbed: number;
}

/** An ingest task's counts: its params plus how many of its documents are indexed. */
export interface IngestProgress extends IngestParams {
  embedded: number;
}

/** The final counts of an ingest task (`tasks.result`). */
export interface IngestResult extends IngestProgress {
  /** Documents of the task that did not get indexed. */
  failed: number;
}

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

const FINAL_PAGE_STATES: PageStatus[] = ['skipped', 'embedded', 'failed', 'deleted'];

/** Tasks and their pages: the durable record of what was asked and how far it got. */
export class TaskRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Creates a task with its seed pages in one transaction. */
  async createCrawlTask(input: {
    tenantId: string;
    knowledgeBaseId: string;
    type: TaskType;
    params: CrawlParams;
    traceId?: string;
    sourceId?: string;
    webhook?: WebhookConfig;
  }): Promise<string> {
    return this.db.$transaction(async (tx) => {
      const task = await tx.task.create({
        data: {
          tenantId: input.tenantId,
          knowledgeBaseId: input.knowledgeBaseId,
          type: input.type,
          params: input.params as unknown as Prisma.InputJsonValue,
          discovered: input.params.seeds.length,
          traceId: input.traceId ?? null,
          sourceId: input.sourceId ?? null,
          ...(input.webhook ? { webhook: input.webhook as unknown as Prisma.InputJsonValue } : {}),
        },
      });
      await tx.taskPage.createMany({
        data: input.params.seeds.map((url) => ({ taskId: task.id, tenantId: input.tenantId, url, depth: 0 })),
        skipDuplicates: true,
      });
      return task.id;
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Creates an ingest task, already running: by the time it exists the API
   * has read and validated the rows. `params` are filled in by
   * {@link recordIngest} once the rows are stored.
   */
  async createIngestTask(input: { tenantId: string; knowledgeBaseId: string; source: string; traceId?: string }): Promise<string> {
    const params: IngestParams = { source: input.source, received: 0, accepted: 0, unchanged: 0, deleted: 0, invalid: 0, toEmbed: 0 };
    const task = await this.db.task.create({
      data: {
        tenantId: input.tenantId,
        knowledgeBaseId: input.knowledgeBaseId,
        type: 'ingest',
        state: 'running',
        startedAt: new Date(),
        params: params as unknown as Prisma.InputJsonValue,
        traceId: input.traceId ?? null,
      },
      select: { id: true },
    });
    return task.id;
  }

  /** Stores what the ingest request did with its rows. */
  async recordIngest(taskId: string, params: IngestParams): Promise<void> {
    await this.db.task.update({ where: { id: taskId }, data: { params: params as unknown as Prisma.InputJsonValue } });
  }

  /** An ingest task's counts; `embedded` = its documents indexed so far. */
  async ingestProgress(taskId: string, params: IngestParams): Promise<IngestProgress> {
    const embedded = await this.db.document.count({ where: { taskId, status: 'indexed' } });
    return { ...params, embedded };
  }

  /**
   * Settles an ingest task once its embed jobs have finished (or at once
   * when nothing needed embedding): final counts go to `tasks.result`;
   * failed when documents were to be embedded and none was.
   */
  async finishIngest(taskId: string): Promise<{ state: TaskState; result: IngestResult } | undefined> {
    const task = await this.db.task.findUnique({ where: { id: taskId }, select: { params: true, type: true } });
    if (!task || task.type !== 'ingest') return undefined;
    const progress = await this.ingestProgress(taskId, task.params as unknown as IngestParams);
    const result: IngestResult = { ...progress, failed: Math.max(0, progress.toEmbed - progress.embedded) };
    const state: TaskState = result.toEmbed > 0 && result.embedded === 0 ? 'failed' : 'completed';
    const error = result.failed > 0 ? `${result.failed} of ${result.toEmbed} documents could not be embedded` : null;
    await this.db.task.updateMany({
      where: { id: taskId, state: { in: ['queued', 'running'] } },
      data: { state, error, result: result as unknown as Prisma.InputJsonValue, finishedAt: new Date() },
    });
    return { state, result };
  }

  /** Creates a purge task for a source (`DELETE /v1/sources/:id?purge=true`), queued for maintenance. */
  async createPurgeTask(input: { tenantId: string; knowledgeBaseId: string; sourceId: string; url: string; traceId?: string }): Promise<string> {
    const task = await this.db.task.create({
      data: {
        tenantId: input.tenantId,
        knowledgeBaseId: input.knowledgeBaseId,
        type: 'purge',
        sourceId: input.sourceId,
        params: { url: input.url } as Prisma.InputJsonValue,
        traceId: input.traceId ?? null,
      },
      select: { id: true },
    });
    return task.id;
  }

  /** Ends a task that has no pages (a purge) with its result. */
  async settle(taskId: string, state: 'completed' | 'failed', result: unknown, error?: string): Promise<void> {
    await this.db.task.updateMany({
      where: { id: taskId, state: { in: ACTIVE_TASK_STATES } },
      data: {
        state,
        result: result === null || result === undefined ? Prisma.DbNull : (result as Prisma.InputJsonValue),
        error: error ?? null,
        finishedAt: new Date(),
      },
    });
  }

  /** Removes a task whose jobs could not be enqueued, so a rejected request leaves nothing behind. */
  async deleteTask(id: string): Promise<void> {
    await this.db.task.deleteMany({ where: { id } });
  }

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

  /** A task by id alone, for workers (the job already carries the tenant). */
  async get(id: string): Promise<{ id: string; tenantId: string; knowledgeBaseId: string; state: TaskState; params: CrawlParams } | undefined> {
    const task = await this.db.task.findUnique({ where: { id } });
    if (!task) return undefined;
    return { ...task, state: task.state as TaskState, params: task.params as unknown as CrawlParams };
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

  /**
   * Whether a crawl that is about to finish reached everything it could, so
   * that deleteUnreached may prune: undefined when it did, else why not.
   * Cut by maxPages (the budget is spent: `discovered` reached it), pages
   * still unprocessed, or a page that failed for another reason than being
   * gone (404/410): a page that could not be fetched could not give its
   * links, so what only it links to would look unreached.
   */
  async incompleteReason(taskId: string): Promise<string | undefined> {
    const task = await this.db.task.findUnique({ where: { id: taskId }, select: { discovered: true, params: true, state: true, quotaReached: true } });
    if (!task) return 'task not found';
    if (task.state !== 'queued' && task.state !== 'running') return `task ${task.state}`;
    const params = task.params as unknown as CrawlParams;
    if (task.discovered >= params.maxPages) return 'maxPages';
    // A crawl the quota cut did not reach every page: what it missed is not gone.
    if (task.quotaReached) return 'quota';
    const [pending, failed] = await Promise.all([
      this.db.taskPage.count({ where: { taskId, status: { in: ['discovered', 'scraped'] } } }),
      this.db.taskPage.count({ where: { taskId, status: 'failed', OR: [{ httpStatus: null }, { httpStatus: { notIn: [404, 410] } }] } }),
    ]);
    if (pending > 0) return 'pages not processed';
    if (failed > 0) return 'failed pages';
    return undefined;
  }

  /**
   * Records what deleteUnreached did: how many pages it removed (added up:
   * a redelivered job that removed the rest adds those), or why it removed none.
   */
  async recordPrune(taskId: string, outcome: { deleted: number } | { skipped: string }): Promise<void> {
    await this.db.task.update({
      where: { id: taskId },
      data: 'deleted' in outcome ? { deletedUnreached: { increment: outcome.deleted }, pruneSkipped: null } : { pruneSkipped: outcome.skipped.slice(0, 200) },
    });
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

  /** Marks a queued task running (first page picked up); true for the one call that did. */
  async markRunning(taskId: string): Promise<boolean> {
    const updated = await this.db.task.updateMany({ where: { id: taskId, state: 'queued' }, data: { state: 'running', startedAt: new Date() } });
    return updated.count === 1;
  }

  async pageStatus(taskId: string, url: string): Promise<PageStatus | undefined> {
    const page = await this.db.taskPage.findUnique({ where: { taskId_url: { taskId, url } } });
    return page?.status as PageStatus | undefined;
  }

  /** Whether the page has reached a state no later step changes. */
  static isFinal(status: PageStatus | undefined): boolean {
    return status !== undefined && FINAL_PAGE_STATES.includes(status);
  }

  /**
   * Records a page's status (and what else the step learned; a field left
   * out keeps its value, the error is cleared unless given). Written on the
   * pool directly, like {@link scrapeContext}: every page of every crawl
   * writes it at least once.
   */
  async setPageStatus(
    taskId: string,
    url: string,
    status: PageStatus,
    extra: { documentId?: string; error?: string; change?: PageChange; httpStatus?: number; bytes?: number } = {},
  ): Promise<void> {
    await onDatabaseConnection(() =>
      poolOf(this.db).query(
        `UPDATE task_pages SET status = $3, error = $4, updated_at = now(),
         document_id = CASE WHEN $5::boolean THEN $6::uuid ELSE document_id END,
         change = CASE WHEN $7::boolean THEN $8 ELSE change END,
         http_status = CASE WHEN $9::boolean THEN $10::int ELSE http_status END,
         bytes = CASE WHEN $11::boolean THEN $12::int ELSE bytes END
       WHERE task_id = $1::uuid AND url = $2`,
        [
          taskId,
          url,
          status,
          extra.error?.slice(0, 2000) ?? null,
          extra.documentId !== undefined,
          extra.documentId ?? null,
          extra.change !== undefined,
          extra.change ?? null,
          extra.httpStatus !== undefined,
          extra.httpStatus ?? null,
          extra.bytes !== undefined,
          extra.bytes ?? null,
        ],
      ),
    );
  }

  /**
   * What a scrape job needs before it fetches, in one round trip: the task,
   * the page's status in it, and the page as the task's knowledge base
   * stored it (see DocumentRepository.storedPage). Undefined when the task
   * does not exist. On the pool directly rather than through Prisma:
   * measured with Prisma 7.10, a model read cost about 0.5 ms of CPU against
   * 0.1 ms for the same query through node-postgres, and an unchanged
   * recrawl's scraper was CPU-bound on such per-page reads.
   */
  async scrapeContext(
    taskId: string,
    url: string,
  ): Promise<
    | { task: { id: string; tenantId: string; knowledgeBaseId: string; state: TaskState; params: CrawlParams }; status?: PageStatus; stored?: StoredPage }
    | undefined
  > {
    const { rows } = await onDatabaseConnection(() =>
      poolOf(this.db).query<{
        id: string;
        tenant_id: string;
        knowledge_base_id: string;
        state: string;
        params: CrawlParams;
        page_status: string | null;
        doc: StoredPageRow | null;
      }>(
        `SELECT t.id, t.tenant_id, t.knowledge_base_id, t.state, t.params,
         (SELECT p.status FROM task_pages p WHERE p.task_id = t.id AND p.url = $2) AS page_status,
         (SELECT json_build_object('id', d.id, 'etag', d.etag, 'lastModified', d.last_modified, 'links', d.links, 'status', d.status, 'fetchedAt', d.fetched_at)
            FROM documents d WHERE d.knowledge_base_id = t.knowledge_base_id AND d.url = $2 AND d.content_type = 'page') AS doc
       FROM tasks t WHERE t.id = $1::uuid`,
        [taskId, url],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      task: { id: row.id, tenantId: row.tenant_id, knowledgeBaseId: row.knowledge_base_id, state: row.state as TaskState, params: row.params },
      ...(row.page_status !== null ? { status: row.page_status as PageStatus } : {}),
      ...(row.doc ? { stored: storedPageOf({ ...row.doc, fetchedAt: row.doc.fetchedAt === null ? null : new Date(row.doc.fetchedAt) }) } : {}),
    };
  }

  /**
   * Records a page whose content the scrape found unchanged (its document
   * indexed, same hash), without undoing what another run of the same job
   * recorded meanwhile. A job can run twice at once (its lock lost, e.g. to
   * a Redis that came back in the past) or again after its first run's embed
   * flow finished; only one statement decides, on the page as it is now:
   * - `scraped`: this task stored the page, and its flow has indexed the
   *   document since: the page is `embedded` (its complete-document writes
   *   the same, or was cut short before it could);
   * - `discovered`: the page is `skipped`, change `unchanged`;
   * - anything else (`embedded` by the other run's flow, or final): left alone.
   * Returns what the page is now, or undefined when it was left alone.
   */
  async markUnchanged(taskId: string, url: string, extra: { documentId: string; bytes?: number }): Promise<'embedded' | 'skipped' | undefined> {
    const [row] = await this.db.$queryRaw<{ status: 'embedded' | 'skipped' }[]>`
      UPDATE task_pages SET
        status = CASE WHEN status = 'scraped' THEN 'embedded' ELSE 'skipped' END,
        change = CASE WHEN status = 'scraped' THEN change ELSE 'unchanged' END,
        document_id = ${extra.documentId}::uuid,
        error = NULL,
        bytes = CASE WHEN status = 'scraped' THEN bytes ELSE ${extra.bytes ?? null}::int END,
        updated_at = now()
      WHERE task_id = ${taskId}::uuid AND url = ${url} AND status IN ('discovered', 'scraped')
      RETURNING status`;
    return row?.status;
  }

  /**
   * Claims links for crawling under the task's page budget and returns the
   * URLs this page should enqueue: the ones it just claimed plus any it had
   * claimed on an earlier attempt that are still unprocessed (so a scrape job
   * that died between this commit and its enqueue loses no children).
   *
   * The task row lock serializes claims of one crawl across all scraper
   * replicas, which is what makes `maxPages` exact. It is held for two
   * statements: the locking read of the budget, then the insert and the
   * count's update as one statement (a data-modifying CTE). The insert is a
   * statement of its own, after the lock, so under READ COMMITTED its
   * snapshot sees every page the previous holder committed. The pending
   * pages are read after the commit: they are this page's own claims.
   *
   * Most pages of a site link to pages already claimed (menus, a recrawl's
   * whole frontier), so a lock-free read comes first: the links not yet
   * pages of the task, with the page's pending claims. When none is new,
   * there is nothing to count against the budget or the quota, and the
   * task's row is not locked at all. That read is safe to act on because a
   * claimed page is never unclaimed while its task runs; a link it finds new
   * may be claimed by another page meanwhile, which the locked insert
   * settles as before. Measured on an unchanged recrawl of the SQLite
   * documentation (1,184 URLs, 8 scrape jobs at once): every page queued
   * for that lock, about 5 round trips each, and the crawl went no faster
   * than the lock.
   */
  async claimLinks(input: { taskId: string; tenantId: string; parentUrl: string; depth: number; urls: string[]; maxPages: number }): Promise<string[]> {
    const [seen] = await this.db.$queryRaw<{ state: string | null; fresh: string[]; pending: string[] }[]>`
      SELECT (SELECT state FROM tasks WHERE id = ${input.taskId}::uuid) AS state,
        ARRAY(SELECT x.u FROM unnest(${input.urls}::text[]) WITH ORDINALITY AS x(u, ord)
              WHERE NOT EXISTS (SELECT 1 FROM task_pages p WHERE p.task_id = ${input.taskId}::uuid AND p.url = x.u)
              ORDER BY x.ord) AS fresh,
        ARRAY(SELECT url FROM task_pages WHERE task_id = ${input.taskId}::uuid AND parent_url = ${input.parentUrl} AND status = 'discovered'
              ORDER BY id) AS pending`;
    // A cancelled crawl claims nothing more (its unclaimed pages are never queued).
    if (!seen?.state || seen.state === 'cancelling' || seen.state === 'cancelled') return [];
    if (seen.fresh.length === 0) return seen.pending;
    const fresh = seen.fresh;
    const exists = await this.db.$transaction(async (tx) => {
      const [task] = await tx.$queryRaw<
        { discovered: number; state: string; knowledge_base_id: string }[]
      >`SELECT discovered, state, knowledge_base_id FROM tasks WHERE id = ${input.taskId}::uuid FOR UPDATE`;
      // A cancelled crawl claims nothing more (its unclaimed pages are never queued).
      if (!task || task.state === 'cancelling' || task.state === 'cancelled') return false;
      const budget = Math.max(0, input.maxPages - task.discovered);
      // Only the links the first read found new: the others are claimed already and cost nothing.
      const quota = budget > 0 ? await this.#withinQuota(tx, { ...input, urls: fresh, knowledgeBaseId: task.knowledge_base_id }) : undefined;
      if (quota?.cut) await tx.$executeRaw`UPDATE tasks SET quota_reached = true WHERE id = ${input.taskId}::uuid AND NOT quota_reached`;
      const urls = quota?.urls ?? fresh;
      if (budget > 0 && urls.length > 0) {
        await tx.$executeRaw`
          WITH claimed AS (
            INSERT INTO task_pages (task_id, tenant_id, url, depth, parent_url, status, created_at, updated_at)
            SELECT ${input.taskId}::uuid, ${input.tenantId}::uuid, x.u, ${input.depth}, ${input.parentUrl}, 'discovered', now(), now()
            FROM unnest(${urls}::text[]) WITH ORDINALITY AS x(u, ord)
            WHERE NOT EXISTS (SELECT 1 FROM task_pages p WHERE p.task_id = ${input.taskId}::uuid AND p.url = x.u)
            ORDER BY x.ord
            LIMIT ${budget}
            ON CONFLICT (task_id, url) DO NOTHING
            RETURNING 1
          )
          UPDATE tasks SET discovered = discovered + (SELECT count(*) FROM claimed)
          WHERE id = ${input.taskId}::uuid AND EXISTS (SELECT 1 FROM claimed)`;
      }
      // More links than budget: when some new one was left out, the crawl
      // is cut by maxPages (its report's stopReason). Only checked then, so
      // a crawl under its budget pays nothing for it.
      if (urls.length > budget) {
        await tx.$executeRaw`
          UPDATE tasks SET max_pages_reached = true
          WHERE id = ${input.taskId}::uuid AND NOT max_pages_reached AND EXISTS (
            SELECT 1 FROM unnest(${urls}::text[]) AS x(u)
            WHERE NOT EXISTS (SELECT 1 FROM task_pages p WHERE p.task_id = ${input.taskId}::uuid AND p.url = x.u))`;
      }
      return true;
    }, TRANSACTION_OPTIONS);
    if (!exists) return [];
    const pending = await this.db.taskPage.findMany({
      where: { taskId: input.taskId, parentUrl: input.parentUrl, status: 'discovered' },
      select: { url: true },
      orderBy: { id: 'asc' },
    });
    return pending.map((p) => p.url);
  }

  /**
   * The tenant's documents-per-knowledge-base quota over a claim: the links
   * that may be claimed, in order. A link already a document of the
   * knowledge base, or already claimed by this crawl, costs nothing (a
   * recrawl of a full knowledge base still revisits every page it has); a
   * new one costs one of the room left, which is the quota less the
   * knowledge base's documents and this crawl's claimed pages not yet
   * stored (their documents are still to come). Runs under the task's row
   * lock, so one crawl is exact; other writers into the same knowledge base
   * at the same moment (a second crawl, a record upload) are not serialized
   * with it, and together may overshoot the quota by what they store
   * concurrently. Three indexed reads, paid once a scraped page.
   */
  async #withinQuota(
    tx: Prisma.TransactionClient,
    input: { taskId: string; tenantId: string; knowledgeBaseId: string; urls: string[] },
  ): Promise<{ urls: string[]; cut: boolean }> {
    const [tenant] = await tx.$queryRaw<{ tier: string; limits: TenantLimits | null }[]>`SELECT tier, limits FROM tenants WHERE id = ${input.tenantId}::uuid`;
    const max = effectiveLimits((tenant?.tier ?? 'starter') as TenantTier, tenant?.limits ?? null).maxDocumentsPerKnowledgeBase;
    const known = await tx.$queryRaw<{ url: string }[]>`
      SELECT url FROM documents WHERE knowledge_base_id = ${input.knowledgeBaseId}::uuid AND url = ANY(${input.urls}::text[])
      UNION SELECT url FROM task_pages WHERE task_id = ${input.taskId}::uuid AND url = ANY(${input.urls}::text[])`;
    const free = new Set(known.map((r) => r.url));
    if (input.urls.every((url) => free.has(url))) return { urls: input.urls, cut: false };
    const [held] = await tx.$queryRaw<{ documents: number; pending: number }[]>`
      SELECT (SELECT count(*)::int FROM documents WHERE knowledge_base_id = ${input.knowledgeBaseId}::uuid) AS documents,
             (SELECT count(*)::int FROM task_pages p WHERE p.task_id = ${input.taskId}::uuid AND p.status = 'discovered'
                AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.knowledge_base_id = ${input.knowledgeBaseId}::uuid AND d.url = p.url)) AS pending`;
    let room = max - (held?.documents ?? 0) - (held?.pending ?? 0);
    let cut = false;
    const urls: string[] = [];
    for (const url of input.urls) {
      if (free.has(url)) urls.push(url);
      else if (room > 0) {
        urls.push(url);
        room -= 1;
      } else cut = true;
    }
    return { urls, cut };
  }

  /**
   * Crawl-like tasks still queued, running or cancelling on which nothing
   * has happened since `before` (not created, started, nor any page
   * updated): the task reaper's candidates, oldest first.
   */
  async quietActiveTasks(before: Date, limit: number): Promise<{ id: string; tenantId: string; state: TaskState }[]> {
    const rows = await this.db.$queryRaw<{ id: string; tenant_id: string; state: string }[]>`
      SELECT t.id, t.tenant_id, t.state FROM tasks t
      WHERE t.state IN ('queued', 'running', 'cancelling') AND t.type IN ('crawl', 'scrape', 'batch-scrape')
        AND t.created_at < ${before} AND (t.started_at IS NULL OR t.started_at < ${before})
        AND NOT EXISTS (SELECT 1 FROM task_pages p WHERE p.task_id = t.id AND p.updated_at >= ${before})
      ORDER BY t.created_at, t.id
      LIMIT ${limit}`;
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, state: r.state as TaskState }));
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
