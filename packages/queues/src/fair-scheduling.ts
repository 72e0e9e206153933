import type { Redis } from 'ioredis';
import { QueueName } from './catalog.ts';
import { Priority, type PriorityValue } from './priorities.ts';

/**
 * Fair scheduling across tenants (issue 12 item 3) on open-source BullMQ,
 * by start-time fair queueing expressed in BullMQ priorities.
 *
 * BullMQ runs the lowest priority first and is FIFO within one priority, so
 * a plain queue makes a small tenant's job wait behind every job another
 * tenant queued before it. Here each priority class (CRITICAL ... BULK) of
 * a shared queue is a band of {@link BAND_WIDTH} priorities, and within its
 * band a job's priority is its tenant's sequence number there: the n-th
 * queued job of every tenant gets about the same priority, so the workers
 * take the tenants' jobs in turn (round-robin), whatever each one's backlog.
 * A tenant's sequence starts at the band's virtual time, the sequence of
 * the job at the head of the band, so a tenant arriving late, or coming
 * back after its backlog drained, neither jumps ahead of the others' queued
 * work nor owes the time it was idle; its first job runs after about one
 * job of each tenant already waiting. So a small tenant's job waits behind
 * roughly (tenants waiting) x (its own position) jobs, never behind another
 * tenant's whole backlog. The classes keep their order: every CRITICAL job
 * runs before every HIGH one, and so on.
 *
 * Why priorities rather than per-tenant queues: BullMQ Pro's groups do
 * this, open-source BullMQ has no such thing, and holding jobs outside
 * BullMQ in per-tenant lists with a pump into the shared queue would break
 * the flows (a crawl's `complete-crawl` parent must own its scrape
 * children from the moment they are added) and add a process to keep alive.
 * Priorities keep every job in BullMQ, with flows, retries, deferrals and
 * Bull Board as they are; the cost is one Redis script per enqueue call.
 *
 * The sequence numbers must stay inside the band. A band's counters start
 * afresh (an epoch) whenever nothing of that band waits at an enqueue, which
 * on a working system is often (the embed band empties whenever the
 * embedder is ahead of the scraper). Should one band stay non-empty for
 * more than {@link BAND_WIDTH} jobs of virtual time, the sequences stop
 * growing at the band's end and that band is plain FIFO until it drains:
 * the class order still holds, nothing fails. A job that was already queued
 * before an epoch began (a retry or deferral coming back) keeps its older,
 * larger number and runs after the new epoch's first jobs; it is never
 * lost. A deduplicated add (same job id) still counts in its tenant's
 * sequence: that tenant's next jobs come slightly later, nothing else.
 *
 * Every tenant has the same share here; the tiers differ in how many jobs
 * of a tenant may run at once (maxConcurrentProcessing, tenant-slots.ts),
 * which this ordering composes with.
 *
 * Keys: one hash per queue and class, `<prefix>:fair:<queue>:<class>`,
 * fields `t:<tenantId>` (the tenant's next sequence) and `max` (the highest
 * sequence handed out in the epoch); deleted when the band empties. It
 * lives under the queue prefix, so under the same Redis Cluster hash tag as
 * the queue's `prioritized` set the script reads.
 */

/** Priorities one class of a fair queue spans; five classes fit under BullMQ's limit of 2^21 - 1. */
export const BAND_WIDTH = 400_000;

/** The classes in the order they run; a class's band is its index here. */
const CLASS_ORDER: readonly PriorityValue[] = [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW, Priority.BULK];

/**
 * Where the bands start: above every plain class value, so a priority tells
 * by itself whether it is a class (non-fair queues) or a place in a band.
 */
const FIRST_BAND = 11;

/**
 * The queues scheduled fairly: those whose jobs carry a tenant's work.
 * Maintenance, webhook and dead-letter keep plain class priorities (their
 * schedules are added by BullMQ's job schedulers, which know no bands).
 */
export const FAIR_QUEUES: ReadonlySet<QueueName> = new Set([QueueName.scrape, QueueName.embed, QueueName.aggregate, QueueName.query]);

/** The first priority of a class's band. */
function bandBase(cls: PriorityValue): number {
  const index = CLASS_ORDER.indexOf(cls);
  if (index < 0) throw new Error(`unknown priority class ${cls}`);
  return FIRST_BAND + index * BAND_WIDTH;
}

/** The BullMQ priority of the job at `sequence` in its tenant's part of a class's band (clamped to the band). */
export function fairPriority(cls: PriorityValue, sequence: number): number {
  return bandBase(cls) + Math.min(Math.max(0, Math.floor(sequence)), BAND_WIDTH - 1);
}

/**
 * The class of a job's BullMQ priority: the priority itself on a plain
 * queue, the band's class on a fair one. What tests and task views compare.
 */
export function priorityClass(priority: number | undefined): PriorityValue | undefined {
  if (priority === undefined || priority <= 0) return undefined;
  if (priority < FIRST_BAND) return (CLASS_ORDER as readonly number[]).includes(priority) ? (priority as PriorityValue) : undefined;
  return CLASS_ORDER[Math.floor((priority - FIRST_BAND) / BAND_WIDTH)];
}

/**
 * Hands out each group's first sequence number, atomically per call.
 * KEYS, per group: the queue's `prioritized` set, the band's hash.
 * ARGV: band width, then per group: band base, tenant id, job count.
 * The virtual time is the sequence of the band's head (score = priority *
 * 2^32 + BullMQ's counter), at most one past the highest handed out this
 * epoch (so a stale job from an older epoch cannot push it forward); an
 * empty band starts a new epoch. Scores up to 2^53 are exact as Lua
 * doubles; %.0f writes them without an exponent.
 */
const ASSIGN = `
local width = tonumber(ARGV[1])
local firsts = {}
for g = 0, (#KEYS / 2) - 1 do
  local zset, band = KEYS[g * 2 + 1], KEYS[g * 2 + 2]
  local base, tenant, n = tonumber(ARGV[g * 3 + 2]), 't:' .. ARGV[g * 3 + 3], tonumber(ARGV[g * 3 + 4])
  local head = redis.call('ZRANGEBYSCORE', zset, string.format('%.0f', base * 4294967296), string.format('%.0f', (base + width) * 4294967296 - 1), 'WITHSCORES', 'LIMIT', 0, 1)
  local vt = 0
  local max = -1
  if #head == 0 then
    redis.call('DEL', band)
  else
    max = tonumber(redis.call('HGET', band, 'max') or '-1')
    vt = math.floor(tonumber(head[2]) / 4294967296) - base
    if vt > max + 1 then vt = max + 1 end
  end
  local seq = tonumber(redis.call('HGET', band, tenant) or '0')
  if seq < vt then seq = vt end
  redis.call('HSET', band, tenant, seq + n)
  if seq + n - 1 > max then redis.call('HSET', band, 'max', seq + n - 1) end
  firsts[#firsts + 1] = seq
end
return firsts
`;

type Scripts = Redis & { kbflowFairAssign(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]> };

/** One run of jobs of a tenant in one class of a fair queue, in the order they are added. */
export interface FairGroup {
  queue: QueueName;
  cls: PriorityValue;
  tenantId: string | undefined;
  count: number;
}

/** The sequence numbers of fair queues' bands, in Redis (see the module comment). */
export class FairScheduler {
  private readonly redis: Scripts;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis as Scripts;
    this.prefix = prefix;
    // defineCommand is per client: a second scheduler on one client reuses it.
    if (typeof this.redis.kbflowFairAssign !== 'function') redis.defineCommand('kbflowFairAssign', { lua: ASSIGN });
  }

  /** The Redis key of a band's counters. */
  bandKey(queue: QueueName, cls: PriorityValue): string {
    return `${this.prefix}:fair:${queue}:${cls}`;
  }

  /**
   * The BullMQ priorities of each group's jobs, in one round trip: group i
   * gets `count` consecutive places of its tenant in its band.
   */
  async assign(groups: FairGroup[]): Promise<number[][]> {
    if (groups.length === 0) return [];
    const keys: string[] = [];
    const args: (string | number)[] = [BAND_WIDTH];
    for (const g of groups) {
      keys.push(`${this.prefix}:${g.queue}:prioritized`, this.bandKey(g.queue, g.cls));
      args.push(bandBase(g.cls), g.tenantId ?? '', g.count);
    }
    const firsts = await this.redis.kbflowFairAssign(keys.length, ...keys, ...args);
    return groups.map((g, i) => Array.from({ length: g.count }, (_, k) => fairPriority(g.cls, Number(firsts[i]) + k)));
  }
}
