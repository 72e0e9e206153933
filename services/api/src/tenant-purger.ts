import type { TenantPurgeView, TenantRepository } from '@kbflow/db';
import { ALL_QUEUES, DeadLetters, QueueName, removeSourceSchedule, tenantPurgedChannel, type JobProducer, type Redis } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/** Job states a purge removes from (`waiting` covers a paused queue's). Active jobs cannot be removed (a worker holds their lock): the purge waits for them. */
const REMOVABLE_STATES = ['waiting', 'prioritized', 'delayed', 'waiting-children', 'failed', 'completed'] as const;
const PAGE = 500;
/** How long a purge waits for the tenant's running jobs to finish before it deletes their rows anyway. */
const ACTIVE_WAIT_MS = 60_000;

export interface TenantPurgerDeps {
  tenants: TenantRepository;
  producer: JobProducer;
  vectors: VectorStore;
  redis: Redis;
  log: Logger;
}

/** The tenant a job works for: its own `tenantId`, or, for a dead letter, its original's. */
function jobTenant(job: Job | undefined): unknown {
  const data = job?.data as { tenantId?: unknown; data?: { tenantId?: unknown } } | undefined;
  return data?.tenantId ?? data?.data?.tenantId;
}

/**
 * Purges a tenant (DELETE /v1/admin/tenants/:id): its sources' job
 * schedulers, queued jobs, vectors,
 * every row (they cascade from the tenant's), dead letters and the
 * embedding cache entries of every process (announced on a Redis channel).
 * It runs in the API process that was asked, after the answer; the purge
 * row says where it is, and a purge still `running` when its process
 * stopped is resumed by the next API start ({@link resume}). Every step is
 * idempotent, so two replicas resuming the same purge do no harm.
 */
export class TenantPurger {
  readonly #deps: TenantPurgerDeps;
  readonly #running = new Map<string, Promise<void>>();

  constructor(deps: TenantPurgerDeps) {
    this.#deps = deps;
  }

  /** Marks the tenant deleted (its keys stop working) and starts the purge; undefined for an unknown tenant. */
  async start(tenantId: string): Promise<TenantPurgeView | undefined> {
    const purge = await this.#deps.tenants.startPurge(tenantId);
    if (purge && purge.status === 'running') this.#launch(purge);
    return purge;
  }

  /** Resumes the purges left running by a stopped process. */
  async resume(): Promise<void> {
    for (const purge of await this.#deps.tenants.runningPurges()) this.#launch(purge);
  }

  /** Waits for the purges this process runs (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all(this.#running.values());
  }

  #launch(purge: TenantPurgeView): void {
    if (this.#running.has(purge.id)) return;
    const run = this.#run(purge).finally(() => this.#running.delete(purge.id));
    this.#running.set(purge.id, run);
  }

  async #run(purge: TenantPurgeView): Promise<void> {
    const { tenants, vectors, redis, producer, log } = this.#deps;
    const tenantId = purge.tenantId;
    try {
      // First the sources' schedulers, so no new run of the tenant is queued behind the sweep.
      for (const sourceId of await tenants.sourceIds(tenantId)) await removeSourceSchedule(producer, sourceId);
      let removed = await this.#removeJobs(tenantId);
      await this.#waitForActiveJobs(tenantId);
      await vectors.deleteTenantVectors(tenantId);
      await tenants.deleteTenantRows(tenantId);
      await redis.publish(tenantPurgedChannel(producer.prefix), tenantId);
      // Again: a job that was running above may have queued follow-ups or been dead-lettered.
      removed += await this.#removeJobs(tenantId);
      await tenants.finishPurge(purge.id);
      log.info({ tenantId, purgeId: purge.id, jobsRemoved: removed }, 'tenant purged');
    } catch (err) {
      log.error({ err, tenantId, purgeId: purge.id }, 'tenant purge failed');
      await tenants
        .finishPurge(purge.id, (err as Error).message)
        .catch((e: unknown) => log.error({ err: e, purgeId: purge.id }, 'could not record a failed purge'));
    }
  }

  /**
   * Removes the tenant's jobs from every queue. Reads every job of the
   * removable states a page at a time: a purge is rare, and BullMQ keeps no
   * index by tenant.
   */
  async #removeJobs(tenantId: string): Promise<number> {
    // Dead letters leave their index too (DeadLetters.remove).
    const deadLetters = new DeadLetters(this.#deps.producer, this.#deps.redis);
    let removed = 0;
    for (const name of ALL_QUEUES) {
      const queue = this.#deps.producer.queue(name);
      for (const state of REMOVABLE_STATES) {
        const mine: Job[] = [];
        for (let start = 0; ; start += PAGE) {
          const page = await queue.getJobs([state], start, start + PAGE - 1);
          mine.push(...page.filter((job) => jobTenant(job) === tenantId));
          if (page.length < PAGE) break;
        }
        for (const job of mine) {
          try {
            if (name === QueueName.deadLetter) await deadLetters.remove(job);
            else await job.remove();
            removed++;
          } catch (err) {
            // Taken by a worker meanwhile: the wait for active jobs and the second sweep get it.
            this.#deps.log.debug({ err, queue: name, jobId: job.id }, 'purge could not remove a job');
          }
        }
      }
    }
    return removed;
  }

  async #waitForActiveJobs(tenantId: string): Promise<void> {
    const deadline = Date.now() + ACTIVE_WAIT_MS;
    for (;;) {
      let active = 0;
      for (const name of ALL_QUEUES) {
        if (name === QueueName.deadLetter) continue;
        const jobs = await this.#deps.producer.queue(name).getJobs(['active'], 0, -1);
        active += jobs.filter((job) => jobTenant(job) === tenantId).length;
      }
      if (active === 0 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
