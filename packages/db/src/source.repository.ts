import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import { Prisma } from './generated/client.ts';
import type { TaskRepository } from './task.repository.ts';
import type { CrawlParams } from './task-types.ts';
import { asWebhook, type WebhookConfig } from './webhook-config.ts';

/** How a source repeats, as the client wrote it. */
export type SourceSchedule = { every: string } | { cron: string; tz?: string };

/** What a source crawls and how; every field is stored as given (validated by the API). */
export interface SourceSettings {
  url: string;
  schedule: SourceSchedule;
  includePaths: string[];
  excludePaths: string[];
  maxPages: number;
  maxDepth: number;
  engine: CrawlParams['engine'];
  respectRobots: boolean;
  sitemaps: 'auto' | 'off';
  politeness: { maxConcurrency?: number; minDelayMs?: number } | null;
  deleteUnreached: boolean;
  /** Where its runs' events are POSTed (docs/webhooks.md), or null. */
  webhook: WebhookConfig | null;
}

export interface SourceView extends SourceSettings {
  id: string;
  tenantId: string;
  knowledgeBaseId: string;
  knowledgeBase: string;
  type: 'site';
  createdAt: Date;
  updatedAt: Date;
}

/** How a run was started. */
export type RunTrigger = 'schedule' | 'manual';

/** The outcome of starting a run: the new task, or the run still in progress. */
export type StartRunResult = { started: true; taskId: string } | { started: false; activeTaskId: string | undefined };

type SourceRow = Prisma.SourceGetPayload<{ include: { knowledgeBase: { select: { slug: true } } } }>;

function toView(row: SourceRow): SourceView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    knowledgeBaseId: row.knowledgeBaseId,
    knowledgeBase: row.knowledgeBase.slug,
    type: 'site',
    url: row.url,
    schedule: row.schedule as unknown as SourceSchedule,
    includePaths: row.includePaths,
    excludePaths: row.excludePaths,
    maxPages: row.maxPages,
    maxDepth: row.maxDepth,
    engine: row.engine as CrawlParams['engine'],
    respectRobots: row.respectRobots,
    sitemaps: row.sitemaps as SourceSettings['sitemaps'],
    politeness: (row.politeness as SourceSettings['politeness']) ?? null,
    deleteUnreached: row.deleteUnreached,
    webhook: asWebhook(row.webhook),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const WITH_KB = { knowledgeBase: { select: { slug: true } } } as const;

/** The crawl a run of this source performs (`tasks.params`). */
export function runParams(source: SourceSettings, trigger: RunTrigger): CrawlParams & { trigger: RunTrigger } {
  return {
    seeds: [source.url],
    maxPages: source.maxPages,
    maxDepth: source.maxDepth,
    engine: source.engine,
    origins: [new URL(source.url).origin],
    includePaths: source.includePaths,
    excludePaths: source.excludePaths,
    respectRobots: source.respectRobots,
    sitemaps: source.sitemaps,
    ...(source.politeness ? { politeness: source.politeness } : {}),
    deleteUnreached: source.deleteUnreached,
    trigger,
  };
}

/** Sources (kbflow issue 11): sites kept fresh by scheduled runs. Every read is scoped to a tenant. */
export class SourceRepository {
  private readonly db: Db;
  private readonly tasks: TaskRepository;

  constructor(db: Db, tasks: TaskRepository) {
    this.db = db;
    this.tasks = tasks;
  }

  async create(input: { tenantId: string; knowledgeBaseId: string; settings: SourceSettings }): Promise<SourceView> {
    const s = input.settings;
    const row = await this.db.source.create({
      data: {
        tenantId: input.tenantId,
        knowledgeBaseId: input.knowledgeBaseId,
        type: 'site',
        url: s.url,
        schedule: s.schedule as unknown as Prisma.InputJsonValue,
        includePaths: s.includePaths,
        excludePaths: s.excludePaths,
        maxPages: s.maxPages,
        maxDepth: s.maxDepth,
        engine: s.engine,
        respectRobots: s.respectRobots,
        sitemaps: s.sitemaps,
        politeness: (s.politeness ?? undefined) as Prisma.InputJsonValue | undefined,
        deleteUnreached: s.deleteUnreached,
        webhook: (s.webhook ?? undefined) as Prisma.InputJsonValue | undefined,
      },
      include: WITH_KB,
    });
    return toView(row);
  }

  async find(tenantId: string, id: string): Promise<SourceView | undefined> {
    const row = await this.db.source.findFirst({ where: { id, tenantId }, include: WITH_KB });
    return row ? toView(row) : undefined;
  }

  /** A source by id alone, for the maintenance worker (the job carries the tenant, checked too). */
  async get(id: string): Promise<SourceView | undefined> {
    const row = await this.db.source.findUnique({ where: { id }, include: WITH_KB });
    return row ? toView(row) : undefined;
  }

  /** The tenant's sources, oldest first, keyset-paginated by id within createdAt. */
  async list(tenantId: string, opts: { limit: number; after?: string }): Promise<SourceView[]> {
    const cursor = opts.after ? await this.db.source.findFirst({ where: { id: opts.after, tenantId }, select: { id: true, createdAt: true } }) : null;
    const rows = await this.db.source.findMany({
      where: cursor ? { tenantId, OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }] } : { tenantId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: opts.limit,
      include: WITH_KB,
    });
    return rows.map(toView);
  }

  /** Every source's id and schedule, in pages, for maintenance to re-register the job schedulers at start. */
  async *allSchedules(pageSize = 500): AsyncGenerator<{ id: string; tenantId: string; schedule: SourceSchedule }[]> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.db.source.findMany({
        where: after ? { id: { gt: after } } : {},
        orderBy: { id: 'asc' },
        take: pageSize,
        select: { id: true, tenantId: true, schedule: true },
      });
      if (rows.length === 0) return;
      yield rows.map((r) => ({ id: r.id, tenantId: r.tenantId, schedule: r.schedule as unknown as SourceSchedule }));
      after = rows.at(-1)!.id;
    }
  }

  async update(tenantId: string, id: string, patch: Partial<SourceSettings>): Promise<SourceView | undefined> {
    const updated = await this.db.source.updateMany({
      where: { id, tenantId },
      data: {
        ...patch,
        schedule: patch.schedule as unknown as Prisma.InputJsonValue | undefined,
        politeness: patch.politeness === null ? Prisma.DbNull : (patch.politeness as Prisma.InputJsonValue | undefined),
        webhook: patch.webhook === null ? Prisma.DbNull : (patch.webhook as unknown as Prisma.InputJsonValue | undefined),
      },
    });
    if (updated.count === 0) return undefined;
    return this.find(tenantId, id);
  }

  /** Removes a source and its webhook delivery log (its runs stay as tasks, with their source id). */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [deleted] = await this.db.$transaction([
      this.db.source.deleteMany({ where: { id, tenantId } }),
      this.db.webhookDelivery.deleteMany({ where: { tenantId, targetId: id } }),
    ]);
    return deleted.count > 0;
  }

  /**
   * Creates a run (a crawl task linked to the source) unless one is in
   * progress. The partial unique index `tasks_one_active_run_per_source`
   * decides, in PostgreSQL, so two maintenance replicas (or a schedule and
   * a "run now") can never both start one.
   */
  async startRun(source: SourceView, trigger: RunTrigger, traceId?: string): Promise<StartRunResult> {
    try {
      const taskId = await this.tasks.createCrawlTask({
        tenantId: source.tenantId,
        knowledgeBaseId: source.knowledgeBaseId,
        type: 'crawl',
        params: runParams(source, trigger),
        sourceId: source.id,
        ...(traceId ? { traceId } : {}),
      });
      return { started: true, taskId };
    } catch (error) {
      if ((error as { code?: string }).code !== 'P2002') throw error;
      const active = await this.db.task.findFirst({
        where: { sourceId: source.id, type: 'crawl', state: { in: ['queued', 'running', 'cancelling'] } },
        select: { id: true },
      });
      return { started: false, activeTaskId: active?.id };
    }
  }

  /**
   * The ids of documents the source's runs reached that still exist, for a
   * purge (which deletes them page by page until none is left).
   */
  async documentIds(tenantId: string, sourceId: string, limit: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT DISTINCT d.id FROM task_pages p
      JOIN tasks t ON t.id = p.task_id
      JOIN documents d ON d.id = p.document_id AND d.tenant_id = t.tenant_id
      WHERE t.tenant_id = ${tenantId}::uuid AND t.source_id = ${sourceId}::uuid AND t.type = 'crawl'
      ORDER BY d.id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  /** Deletes documents (their chunks go with them) of the tenant; returns what went, for the vector deletes. */
  async deleteDocuments(tenantId: string, documentIds: string[]): Promise<{ documentIds: string[]; chunkIds: string[] }> {
    return this.db.$transaction(async (tx) => {
      const docs = await tx.document.findMany({ where: { tenantId, id: { in: documentIds } }, select: { id: true } });
      const ids = docs.map((d) => d.id);
      const chunks = await tx.chunk.findMany({ where: { documentId: { in: ids } }, select: { id: true } });
      await tx.document.deleteMany({ where: { id: { in: ids } } });
      return { documentIds: ids, chunkIds: chunks.map((c) => c.id) };
    }, TRANSACTION_OPTIONS);
  }
}
