import type { Db } from './client.ts';
import { ACTIVE_TASK_STATES, type PageStatus, type TaskState } from './task-types.ts';

/** One tenant's work in flight: its unfinished tasks by state, and their pages by status. */
export interface TenantWorkInFlight {
  tasks: Partial<Record<TaskState, number>>;
  pages: Partial<Record<PageStatus, number>>;
}

/** One tenant's finished work over a window. */
export interface TenantWorkDone {
  windowSeconds: number;
  tasks: { completed: number; failed: number; cancelled: number };
  /** Milliseconds from submission to the end, of the tasks finished in the window; null when none. */
  durationMs: { p50: number | null; p95: number | null };
}

/**
 * The tenant's own view of the queues (`GET /v1/queues` and `/v1/stats`
 * with a tenant key, issue 12 item 4). BullMQ's counts mix every tenant's
 * jobs and cannot be filtered without reading each job, so a tenant's
 * figures come from its own rows: its unfinished tasks and their pages
 * (whose status is each page's place in the pipeline: `discovered` waits
 * for the scraper, `scraped` for the embedder) and the tasks it finished
 * lately. Both read by (tenant_id, created_at) and (task_id, status) indexes.
 */
export class TenantWorkRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async inFlight(tenantId: string): Promise<TenantWorkInFlight> {
    const tasks = await this.#db.task.groupBy({ by: ['state'], where: { tenantId, state: { in: ACTIVE_TASK_STATES } }, _count: { _all: true } });
    const pages = await this.#db.$queryRaw<{ status: PageStatus; n: bigint }[]>`
      SELECT p.status, count(*) AS n
      FROM task_pages p JOIN tasks t ON t.id = p.task_id
      WHERE t.tenant_id = ${tenantId}::uuid AND t.state = ANY(${ACTIVE_TASK_STATES}::text[])
      GROUP BY p.status`;
    return {
      tasks: Object.fromEntries(tasks.map((t) => [t.state, t._count._all])),
      pages: Object.fromEntries(pages.map((p) => [p.status, Number(p.n)])),
    };
  }

  async doneSince(tenantId: string, windowSeconds: number): Promise<TenantWorkDone> {
    const since = new Date(Date.now() - windowSeconds * 1000);
    // The (tenant_id, created_at) index bounds the scan: a task finished in
    // the window was created at most a week before it (longer runs are not counted).
    const createdSince = new Date(since.getTime() - 7 * 24 * 3600 * 1000);
    const [row] = await this.#db.$queryRaw<{ completed: bigint; failed: bigint; cancelled: bigint; p50: number | null; p95: number | null }[]>`
      SELECT count(*) FILTER (WHERE state = 'completed') AS completed,
             count(*) FILTER (WHERE state = 'failed') AS failed,
             count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at) * 1000) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at) * 1000) AS p95
      FROM tasks
      WHERE tenant_id = ${tenantId}::uuid AND created_at >= ${createdSince} AND finished_at >= ${since}`;
    const round = (v: number | null) => (v === null ? null : Math.round(Number(v)));
    return {
      windowSeconds,
      tasks: { completed: Number(row?.completed ?? 0), failed: Number(row?.failed ?? 0), cancelled: Number(row?.cancelled ?? 0) },
      durationMs: { p50: round(row?.p50 ?? null), p95: round(row?.p95 ?? null) },
    };
  }
}
