import type { Redis } from 'ioredis';
import { JobDeferral } from './errors.ts';
import { LeaseLimiter, type Lease } from './lease-limiter.ts';

/**
 * The jobs a tenant's maxConcurrentProcessing counts: scraping a page and
 * embedding its chunks or records. The scraper takes its share itself, with
 * the host's slot ({@link TenantSlots.shareOf}); the embedder's worker
 * takes it around each job (`tenantLimited`).
 */
export const TENANT_LIMITED_JOBS: Readonly<Record<string, readonly string[]>> = {
  scrape: ['scrape-page'],
  embed: ['embed-chunks', 'embed-documents'],
};

/** Shortest tenant-limit deferral (a wait under a second only churns the queue; see the scraper's MIN_DEFERRAL_MS). */
export const TENANT_DEFERRAL_MS = 1_000;
/** How long task status says `tenant-limit` after the tenant's last deferral. */
const WAITING_MARK_MS = 5_000;

/** The Redis key that says a tenant's jobs were deferred for its limit in the last few seconds (read by the API's task status). */
export function tenantLimitWaitingKey(prefix: string, tenantId: string): string {
  return `${prefix}:tenant-limit:{${tenantId}}:waiting`;
}

/**
 * A tenant's share of the workers (its tier's maxConcurrentProcessing): at
 * most that many of its jobs of one queue run at once across every replica.
 * A job over it is deferred (`JobDeferral`: back to delayed, its attempt not
 * spent) and tried again about a second later; a killed worker's lease
 * expires after `leaseMs` (see {@link LeaseLimiter}).
 */
export class TenantSlots {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly leases: LeaseLimiter;
  private readonly limitOf: (tenantId: string) => Promise<number>;

  constructor(deps: { redis: Redis; prefix: string; leaseMs?: number; limitOf: (tenantId: string) => Promise<number> }) {
    this.redis = deps.redis;
    this.prefix = deps.prefix;
    this.leases = new LeaseLimiter(deps.redis, { leaseMs: deps.leaseMs ?? 30_000 });
    this.limitOf = deps.limitOf;
  }

  private key(queue: string, tenantId: string): string {
    return `${this.prefix}:tenant-slots:{${tenantId}}:${queue}`;
  }

  /**
   * A slot for one job of the tenant, or a {@link JobDeferral} thrown when
   * the tenant's share is in use. Jobs outside {@link TENANT_LIMITED_JOBS}
   * take no slot (undefined).
   */
  async acquire(queue: string, jobName: string, tenantId: string | undefined): Promise<Lease | undefined> {
    if (!tenantId || !TENANT_LIMITED_JOBS[queue]?.includes(jobName)) return undefined;
    const max = await this.limitOf(tenantId);
    const lease = await this.leases.acquire(this.key(queue, tenantId), max);
    if (lease) return lease;
    throw await this.deferral(tenantId, max);
  }

  /**
   * The tenant's share of `queue` for a handler that takes it itself, in
   * the same atomic step as another lease: the scraper takes it with its
   * host's slot (one Redis round trip a page instead of two). The key is
   * the one {@link acquire} and {@link held} use, so both ways count alike.
   */
  async shareOf(queue: string, tenantId: string): Promise<{ key: string; max: number }> {
    return { key: this.key(queue, tenantId), max: await this.limitOf(tenantId) };
  }

  /** What a job over its tenant's share throws: the tenant is marked waiting (task status reads it) and the job deferred. */
  async deferral(tenantId: string, max: number): Promise<JobDeferral> {
    await this.redis.set(tenantLimitWaitingKey(this.prefix, tenantId), String(max), 'PX', WAITING_MARK_MS);
    // Jitter spreads the retries of many deferred jobs across the second.
    return new JobDeferral('tenant-limit', TENANT_DEFERRAL_MS + Math.random() * 500);
  }

  /** The tenant's slots of `queue` in use now. */
  async held(queue: string, tenantId: string): Promise<number> {
    return this.leases.held(this.key(queue, tenantId));
  }
}
