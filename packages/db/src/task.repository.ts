import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import type { Prisma } from './generated/client.ts';

export type TaskType = 'crawl' | 'scrape' | 'batch-scrape' | 'ingest';
export type TaskState = 'queued' | 'running' | 'completed' | 'failed';
export type PageStatus = 'discovered' | 'scraped' | 'skipped' | 'embedded' | 'failed' | 'deleted';

/**
 * What a crawl found for a page (`task_pages.change`): new or changed
 * content; not-modified (the server answered 304, nothing downloaded);
 * unchanged (downloaded, same content hash); deleted (404/410 or redirected
 * out of scope: its document was removed).
 */
export type PageChange = 'new' | 'changed' | 'not-modified' | 'unchanged' | 'deleted';

/** What a crawl-like task was asked to do; stored on the task, read by the scraper. */
export interface CrawlParams {
  seeds: string[];
  maxPages: number;
  maxDepth: number;
  engine: 'auto' | 'http' | 'browser';
  /** Only links on these origins are followed. */
  origins: string[];
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
 * When crawls gain path rules (include/exclude), they narrow this key.
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
}

const EMPTY_PROGRESS: TaskProgress = { discovered: 0, scraped: 0, skipped: 0, embedded: 0, failed: 0, notModified: 0, unchangedByHash: 0, deletedGone: 0, deletedUnreached: 0 };

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
  async createCrawlTask(input: { tenantId: string; knowledgeBaseId: string; type: TaskType; params: CrawlParams; traceId?: string }): Promise<string> {
    return this.db.$transaction(async (tx) => {
      const task = await tx.task.create({
        data: {
          tenantId: input.tenantId,
          knowledgeBaseId: input.knowledgeBaseId,
          type: input.type,
          params: input.params as unknown as Prisma.InputJsonValue,
          discovered: input.params.seeds.length,
          traceId: input.traceId ?? null,
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

  /** Removes a task whose jobs could not be enqueued, so a rejected request leaves nothing behind. */
  async deleteTask(id: string): Promise<void> {
    await this.db.task.deleteMany({ where: { id } });
  }

  async find(tenantId: string, id: string): Promise<TaskView | undefined> {
    const task = await this.db.task.findFirst({ where: { id, tenantId } });
    if (!task) return undefined;
    const isIngest = task.type === 'ingest';
    return {
      id: task.id,
      tenantId: task.tenantId,
      knowledgeBaseId: task.knowledgeBaseId,
      type: task.type as TaskType,
      state: task.state as TaskState,
      params: task.params as unknown as CrawlParams,
      progress: isIngest ? { ...EMPTY_PROGRESS } : { ...(await this.progress(id)), deletedUnreached: task.deletedUnreached },
      error: task.error,
      pruneSkipped: task.pruneSkipped,
      ...(isIngest ? { ingest: await this.ingestProgress(id, task.params as unknown as IngestParams) } : {}),
      result: task.result,
      traceId: task.traceId,
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
    const task = await this.db.task.findUnique({ where: { id: taskId }, select: { discovered: true, params: true, state: true } });
    if (!task) return 'task not found';
    if (task.state !== 'queued' && task.state !== 'running') return `task ${task.state}`;
    const params = task.params as unknown as CrawlParams;
    if (task.discovered >= params.maxPages) return 'maxPages';
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

  /** Marks a queued task running (first page picked up). */
  async markRunning(taskId: string): Promise<void> {
    await this.db.task.updateMany({ where: { id: taskId, state: 'queued' }, data: { state: 'running', startedAt: new Date() } });
  }

  async pageStatus(taskId: string, url: string): Promise<PageStatus | undefined> {
    const page = await this.db.taskPage.findUnique({ where: { taskId_url: { taskId, url } } });
    return page?.status as PageStatus | undefined;
  }

  /** Whether the page has reached a state no later step changes. */
  static isFinal(status: PageStatus | undefined): boolean {
    return status !== undefined && FINAL_PAGE_STATES.includes(status);
  }

  async setPageStatus(
    taskId: string,
    url: string,
    status: PageStatus,
    extra: { documentId?: string; error?: string; change?: PageChange; httpStatus?: number } = {},
  ): Promise<void> {
    await this.db.taskPage.updateMany({
      where: { taskId, url },
      data: {
        status,
        documentId: extra.documentId,
        error: extra.error?.slice(0, 2000) ?? null,
        ...(extra.change !== undefined ? { change: extra.change } : {}),
        ...(extra.httpStatus !== undefined ? { httpStatus: extra.httpStatus } : {}),
      },
    });
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
   */
  async claimLinks(input: { taskId: string; tenantId: string; parentUrl: string; depth: number; urls: string[]; maxPages: number }): Promise<string[]> {
    const exists = await this.db.$transaction(async (tx) => {
      const [task] = await tx.$queryRaw<{ discovered: number }[]>`SELECT discovered FROM tasks WHERE id = ${input.taskId}::uuid FOR UPDATE`;
      if (!task) return false;
      const budget = Math.max(0, input.maxPages - task.discovered);
      if (budget > 0 && input.urls.length > 0) {
        await tx.$executeRaw`
          WITH claimed AS (
            INSERT INTO task_pages (task_id, tenant_id, url, depth, parent_url, status, created_at, updated_at)
            SELECT ${input.taskId}::uuid, ${input.tenantId}::uuid, x.u, ${input.depth}, ${input.parentUrl}, 'discovered', now(), now()
            FROM unnest(${input.urls}::text[]) WITH ORDINALITY AS x(u, ord)
            WHERE NOT EXISTS (SELECT 1 FROM task_pages p WHERE p.task_id = ${input.taskId}::uuid AND p.url = x.u)
            ORDER BY x.ord
            LIMIT ${budget}
            ON CONFLICT (task_id, url) DO NOTHING
            RETURNING 1
          )
          UPDATE tasks SET discovered = discovered + (SELECT count(*) FROM claimed)
          WHERE id = ${input.taskId}::uuid AND EXISTS (SELECT 1 FROM claimed)`;
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
   * Settles a task once its flow has finished: completed when at least one
   * page was stored or found unchanged, failed when every page failed.
   */
  async finish(taskId: string): Promise<{ state: TaskState; progress: TaskProgress }> {
    // Pages not final here never got through (a job failed for good before
    // recording anything, or embedding did not complete): they count as
    // failed, so a finished task always shows final numbers.
    await this.db.taskPage.updateMany({ where: { taskId, status: 'discovered' }, data: { status: 'failed', error: 'not processed' } });
    await this.db.taskPage.updateMany({ where: { taskId, status: 'scraped' }, data: { status: 'failed', error: 'embedding did not complete' } });
    const progress = await this.progress(taskId);
    const state: TaskState = progress.embedded + progress.skipped + progress.deletedGone > 0 || progress.discovered === 0 ? 'completed' : 'failed';
    let error: string | null = null;
    if (state === 'failed') {
      const page = await this.db.taskPage.findFirst({ where: { taskId, status: 'failed' }, orderBy: { id: 'asc' } });
      error = page?.error ?? 'every page failed';
    }
    await this.db.task.updateMany({
      where: { id: taskId, state: { in: ['queued', 'running'] } },
      data: { state, error, finishedAt: new Date() },
    });
    return { state, progress };
  }
}
