// The politeness half of scrapePage: the dependencies it asks (robots.txt,
// the host's slot with the tenant's share, sitemaps), the host's limits for
// a task, and what a site's "come back later" does to the page's job.
import { AppError } from '@kbflow/errors';
import { JobDeferral, type JobContext, type JobData } from '@kbflow/queues';
import type { RobotsRules } from '../domain/robots-rules.ts';
import type { SitemapEntry } from '../domain/sitemap-parser.ts';
import type { HostLimits, HostSlot, TenantShare } from '../politeness/host-limiter.ts';

/** robots.txt, sitemaps and per-host limits (src/politeness/), as the processor uses them. */
export interface PolitenessDeps {
  robots: { rulesFor(origin: string): Promise<RobotsRules> };
  limiter: { acquire(host: string, limits: HostLimits, tenant?: TenantShare): Promise<HostSlot>; backoff(host: string, ms: number): Promise<number> };
  /** The tenant's share of the scrapers (maxConcurrentProcessing), taken with the host's slot: @kbflow/queues' TenantSlots. */
  tenants: { shareOf(queue: string, tenantId: string): Promise<TenantShare>; deferral(tenantId: string, max: number): Promise<JobDeferral> };
  /** KBFLOW_HOST_MAX_CONCURRENCY, KBFLOW_HOST_MIN_DELAY_MS, KBFLOW_HOST_MAX_BACKOFF_MS. */
  defaults: HostLimits & { maxBackoffMs: number };
  /** The in-scope pages the site's sitemaps list (`starts`: robots.txt's Sitemap: lines). */
  sitemapUrls(origin: string, starts: string[], maxUrls: number): Promise<SitemapEntry[]>;
}

/**
 * Shortest deferral: BullMQ can lose track of a job moved to `delayed` in the
 * same instant it was taken (seen in an earlier attempt at this), and a wait
 * under a second only churns the queue.
 */
export const MIN_DEFERRAL_MS = 1000;

/** A page may find its host backed off this often; then the site's answer counts as an ordinary failed attempt. */
const MAX_BACKOFFS = 20;

/** The task's limits over the scraper's defaults, with robots.txt's Crawl-delay as the delay's floor. */
export function hostLimits(
  asked: { maxConcurrency?: number; minDelayMs?: number } | undefined,
  robots: RobotsRules | undefined,
  defaults: PolitenessDeps['defaults'],
): HostLimits {
  const crawlDelay = Math.min(robots?.crawlDelayMs() ?? 0, defaults.maxBackoffMs);
  return { maxConcurrency: asked?.maxConcurrency ?? defaults.maxConcurrency, minDelayMs: Math.max(asked?.minDelayMs ?? defaults.minDelayMs, crawlDelay) };
}

/**
 * A 429/503 with Retry-After holds the whole host back (for every crawl and
 * replica) and this page waits for it without spending an attempt, rather
 * than rate-limiting the whole scrape queue: other hosts keep flowing. After
 * {@link MAX_BACKOFFS} waits the answer is an ordinary failed attempt, so a
 * host that never recovers cannot keep a task open for ever.
 */
export async function hostAskedToWait(
  error: unknown,
  host: string,
  data: JobData<'scrape', 'scrape-page'>,
  ctx: JobContext,
  politeness: PolitenessDeps,
): Promise<void> {
  // Only the site's own answer: an open browser breaker also says "come back later", but about the browser.
  if (!(error instanceof AppError) || error.code !== 'http_status' || !error.retryable) return;
  const { retryAfterMs } = error;
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return;
  const backoffs = data.backoffs ?? 0;
  if (backoffs >= MAX_BACKOFFS) {
    // Strip the delay: the worker must not turn it into a queue-wide rate limit.
    throw new AppError('host_backoff_exhausted', `${(error as Error).message} (backed off ${backoffs} times)`, { cause: error });
  }
  const held = await politeness.limiter.backoff(host, Math.min(Math.max(retryAfterMs, MIN_DEFERRAL_MS), politeness.defaults.maxBackoffMs));
  await ctx.job.updateData({ ...data, backoffs: backoffs + 1 });
  ctx.log.info({ host, retryAfterMs, backoffs: backoffs + 1 }, 'host asked to wait; page deferred');
  throw new JobDeferral('host-backoff', Math.max(held, MIN_DEFERRAL_MS) + Math.random() * 250);
}

/**
 * Starts `work` now and settles it when the returned function is called:
 * meanwhile its failure is held (not an unhandled rejection), then rethrown.
 */
export function inBackground<T>(work: Promise<T>): () => Promise<T> {
  const settled = work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return async () => {
    const outcome = await settled;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  };
}
