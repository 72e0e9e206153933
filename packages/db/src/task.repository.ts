import { claimLinks, type ClaimedLinks, type ClaimLinksInput } from './claim-links.ts';
import { poolOf, TRANSACTION_OPTIONS, type Db } from './client.ts';
import { pageStatusParams, pageStatusSet, type PageStatusExtra } from './page-status.ts';
import { storedPageOf, type StoredPage, type StoredPageRow } from './document.repository.ts';
import { Prisma } from './generated/client.ts';
import { TaskRunRepository, type RunReport, type TaskProgress, type TaskView } from './task-run.repository.ts';
import { ACTIVE_TASK_STATES } from './task-types.ts';
import type { CrawlParams, IngestParams, IngestResult, PageStatus, TaskState, TaskType } from './task-types.ts';
import type { WebhookConfig } from './webhook-config.ts';

const FINAL_PAGE_STATES: PageStatus[] = ['skipped', 'embedded', 'failed', 'deleted'];

/** A page's status, by task and URL (see TaskRepository.setPageStatus). */
const SET_PAGE_STATUS = `UPDATE task_pages SET ${pageStatusSet(3)} WHERE task_id = $1::uuid AND url = $2`;

/** The task, the page's status in it, and the page as its knowledge base stored it (see TaskRepository.scrapeContext). */
const SCRAPE_CONTEXT = `SELECT t.id, t.tenant_id, t.knowledge_base_id, t.state, t.params,
         (SELECT p.status FROM task_pages p WHERE p.task_id = t.id AND p.url = $2) AS page_status,
         (SELECT json_build_object('id', d.id, 'etag', d.etag, 'lastModified', d.last_modified, 'links', d.links, 'status', d.status, 'fetchedAt', d.fetched_at)
            FROM documents d WHERE d.knowledge_base_id = t.knowledge_base_id AND d.url = $2 AND d.content_type = 'page') AS doc
       FROM tasks t WHERE t.id = $1::uuid`;

/**
 * Tasks and their pages: the durable record of what was asked and how far it got.
 * Creating and settling tasks and recording their pages live here; reading a
 * run back (views, listings, progress, report, cancel, finish) is
 * {@link TaskRunRepository}'s, and claiming links is claim-links.ts's: this
 * class forwards to both, so callers hold one repository.
 */
export class TaskRepository {
  private readonly db: Db;
  readonly #runs: TaskRunRepository;

  constructor(db: Db) {
    this.db = db;
    this.#runs = new TaskRunRepository(db);
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

  /**
   * Settles an ingest task once its embed jobs have finished (or at once
   * when nothing needed embedding): final counts go to `tasks.result`;
   * failed when documents were to be embedded and none was.
   */
  async finishIngest(taskId: string): Promise<{ state: TaskState; result: IngestResult } | undefined> {
    const task = await this.db.task.findUnique({ where: { id: taskId }, select: { params: true, type: true } });
    if (!task || task.type !== 'ingest') return undefined;
    const progress = await this.#runs.ingestProgress(taskId, task.params as unknown as IngestParams);
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

  /** A task by id alone, for workers (the job already carries the tenant). */
  async get(id: string): Promise<{ id: string; tenantId: string; knowledgeBaseId: string; state: TaskState; params: CrawlParams } | undefined> {
    const task = await this.db.task.findUnique({ where: { id } });
    if (!task) return undefined;
    return { ...task, state: task.state as TaskState, params: task.params as unknown as CrawlParams };
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
  async setPageStatus(taskId: string, url: string, status: PageStatus, extra: PageStatusExtra = {}): Promise<void> {
    await poolOf(this.db).query({ name: 'kbflow-set-page-status', text: SET_PAGE_STATUS, values: [taskId, url, ...pageStatusParams({ status, extra })] });
  }

  /**
   * What a scrape job needs before it fetches, in one round trip: the task,
   * the page's status in it, and the page as the task's knowledge base
   * stored it (see DocumentRepository.storedPage). Undefined when the task
   * does not exist. On the pool directly rather than through Prisma:
   * measured with Prisma 7.10, a model read cost about 0.5 ms of CPU against
   * 0.1 ms for the same query through node-postgres, and an unchanged
   * recrawl's scraper was CPU-bound on such per-page reads. A named
   * statement, so each connection parses and plans it once (see
   * docs/operations.md on poolers): measured 0.25 against 0.11 ms a read.
   */
  async scrapeContext(
    taskId: string,
    url: string,
  ): Promise<
    | { task: { id: string; tenantId: string; knowledgeBaseId: string; state: TaskState; params: CrawlParams }; status?: PageStatus; stored?: StoredPage }
    | undefined
  > {
    const { rows } = await poolOf(this.db).query<{
      id: string;
      tenant_id: string;
      knowledge_base_id: string;
      state: string;
      params: CrawlParams;
      page_status: string | null;
      doc: StoredPageRow | null;
    }>({ name: 'kbflow-scrape-context', text: SCRAPE_CONTEXT, values: [taskId, url] });
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

  /** Claims a scraped page's links for its crawl; see claimLinks in claim-links.ts. */
  async claimLinks(input: ClaimLinksInput): Promise<ClaimedLinks> {
    return claimLinks(this.db, input);
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

  /** A task of the tenant, as the API shows it; see {@link TaskRunRepository.find}. */
  async find(tenantId: string, id: string): Promise<TaskView | undefined> {
    return this.#runs.find(tenantId, id);
  }

  /** See {@link TaskRunRepository.list}. */
  async list(tenantId: string, filter: Parameters<TaskRunRepository['list']>[1]): Promise<TaskView[]> {
    return this.#runs.list(tenantId, filter);
  }

  /** See {@link TaskRunRepository.cursorOf}. */
  async cursorOf(tenantId: string, id: string): Promise<{ createdAt: Date; id: string } | undefined> {
    return this.#runs.cursorOf(tenantId, id);
  }

  /** See {@link TaskRunRepository.latestRuns}. */
  async latestRuns(tenantId: string, sourceIds: string[]): Promise<Map<string, TaskView>> {
    return this.#runs.latestRuns(tenantId, sourceIds);
  }

  /** See {@link TaskRunRepository.progress}. */
  async progress(taskId: string): Promise<TaskProgress> {
    return this.#runs.progress(taskId);
  }

  /** See {@link TaskRunRepository.report}. */
  async report(task: Parameters<TaskRunRepository['report']>[0]): Promise<RunReport> {
    return this.#runs.report(task);
  }

  /** See {@link TaskRunRepository.requestCancel}. */
  async requestCancel(tenantId: string, id: string): Promise<TaskState | undefined> {
    return this.#runs.requestCancel(tenantId, id);
  }

  /** See {@link TaskRunRepository.finish}. */
  async finish(taskId: string, opts: { failWith?: string } = {}): Promise<{ state: TaskState; progress: TaskProgress; report: RunReport }> {
    return this.#runs.finish(taskId, opts);
  }
}
