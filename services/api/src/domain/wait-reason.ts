import type { TaskView } from '@kbflow/db';

/** Why an unfinished task is not moving, in the order a reader should see it. */
export type WaitReason =
  | { reason: 'breaker-open'; dependency: string; retryAt?: string }
  | { reason: 'rate-limited'; queue: string; retryInMs: number }
  | { reason: 'tenant-limit'; maxConcurrentProcessing: number }
  | { reason: 'queued'; queue: string; pagesWaiting: number }
  | { reason: 'waiting-for-children'; pagesAwaitingEmbedding: number }
  | { reason: 'embedding'; documentsAwaitingEmbedding: number };

export interface WaitFacts {
  /** Open breakers across replicas, with when they probe again. */
  openBreakers: { name: string; retryAt?: string }[];
  /** Remaining manual rate limit per queue, in ms (0 when none). */
  rateLimitMs: Record<'scrape' | 'embed' | 'aggregate', number>;
  /** Set when the tenant's jobs were deferred for its maxConcurrentProcessing in the last few seconds: that limit. */
  tenantLimit?: number | undefined;
}

/** Which breakers can hold up each stage of a crawl. */
const STAGE_DEPENDENCIES = ['browser', 'embedding-provider', 'vector-store'];

/**
 * The reason a queued or running task waits, or undefined when it is moving
 * or finished. Pages still `discovered` wait on scraping; pages `scraped`
 * wait on their embed batches (the flow's children).
 */
export function explainWait(task: Pick<TaskView, 'state' | 'progress'>, facts: WaitFacts): WaitReason | undefined {
  if (task.state === 'completed' || task.state === 'failed') return undefined;
  const open = facts.openBreakers.find((b) => STAGE_DEPENDENCIES.includes(b.name));
  if (open) return { reason: 'breaker-open', dependency: open.name, ...(open.retryAt ? { retryAt: open.retryAt } : {}) };
  const limited = (['scrape', 'embed', 'aggregate'] as const).find((q) => facts.rateLimitMs[q] > 0);
  if (limited) return { reason: 'rate-limited', queue: limited, retryInMs: facts.rateLimitMs[limited] };
  if (facts.tenantLimit !== undefined) return { reason: 'tenant-limit', maxConcurrentProcessing: facts.tenantLimit };
  const { discovered, scraped, skipped, embedded, failed, deletedGone } = task.progress;
  const unscraped = discovered - scraped - skipped - failed - deletedGone;
  // The task's own pages still to fetch: the scrape queue's length would tell
  // one tenant how much the others have queued, and with fair scheduling it is
  // not what stands ahead of this task anyway (fair-scheduling.ts).
  if (task.state === 'queued' || unscraped > 0)
    return { reason: 'queued', queue: 'scrape', pagesWaiting: Math.max(unscraped, task.state === 'queued' ? 1 : 0) };
  const awaiting = scraped - embedded;
  if (awaiting > 0) return { reason: 'waiting-for-children', pagesAwaitingEmbedding: awaiting };
  return undefined;
}

/**
 * The reason an ingest task waits: its rows are stored, so only the embed
 * stage (its breakers and rate limit) can hold it up.
 */
export function explainIngestWait(task: Pick<TaskView, 'state' | 'ingest'>, facts: WaitFacts): WaitReason | undefined {
  if (task.state === 'completed' || task.state === 'failed' || !task.ingest) return undefined;
  const open = facts.openBreakers.find((b) => b.name === 'embedding-provider' || b.name === 'vector-store');
  if (open) return { reason: 'breaker-open', dependency: open.name, ...(open.retryAt ? { retryAt: open.retryAt } : {}) };
  if (facts.rateLimitMs.embed > 0) return { reason: 'rate-limited', queue: 'embed', retryInMs: facts.rateLimitMs.embed };
  if (facts.tenantLimit !== undefined) return { reason: 'tenant-limit', maxConcurrentProcessing: facts.tenantLimit };
  const awaiting = task.ingest.toEmbed - task.ingest.embedded;
  return awaiting > 0 ? { reason: 'embedding', documentsAwaitingEmbedding: awaiting } : undefined;
}
