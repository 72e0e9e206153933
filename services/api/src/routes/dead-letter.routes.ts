import { randomUUID } from 'node:crypto';
import {
  DEAD_LETTER_ORIGINS,
  DEAD_LETTER_STATES,
  DeadLetters,
  jobNamesOf,
  Priority,
  QueueName,
  type JobProducer,
  type PriorityValue,
  type Redis,
} from '@kbflow/queues';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AdmissionControl } from '../http/admission.ts';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { deadLetterPage, deadLetterReplayed } from './ops-responses.ts';

export interface DeadLetterRouteDeps {
  producer: JobProducer;
  redis: Redis;
  admission: AdmissionControl;
  log: Logger;
}

const ORIGIN_QUEUES = DEAD_LETTER_ORIGINS;
const HELD_STATES = DEAD_LETTER_STATES;

/** Replays and deletes of one entry are serialized by this lock; it outlives any replay by far. */
const LOCK_TTL_MS = 30_000;
/** Compare-and-delete: a lock is released only by its holder. */
const UNLOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  queue: z.enum(ORIGIN_QUEUES).optional(),
});

const deadLetterData = z.object({
  queue: z.string(),
  jobName: z.string(),
  jobId: z.string(),
  data: z.unknown(),
  error: z.string(),
  attemptsMade: z.number(),
  failedAt: z.string(),
  stacktrace: z.array(z.string()).optional(),
});

/**
 * The priority a replayed job runs at. The dead letter does not record the
 * original's, and a replay is operator-driven background work: LOW, except
 * queries, which are only ever CRITICAL.
 */
function replayPriority(queue: QueueName): PriorityValue {
  return queue === QueueName.query ? Priority.CRITICAL : Priority.LOW;
}

/** The public shape of one dead letter. */
function entry(job: Job) {
  const d = job.data as Partial<z.infer<typeof deadLetterData>>;
  return {
    id: String(job.id),
    queue: d.queue ?? null,
    jobName: d.jobName ?? null,
    jobId: d.jobId ?? null,
    data: d.data ?? null,
    error: d.error ?? null,
    attempts: d.attemptsMade ?? null,
    failedAt: d.failedAt ?? null,
    deadLetteredAt: new Date(job.timestamp).toISOString(),
    stacktrace: d.stacktrace ?? [],
  };
}

/**
 * Dead letters: jobs that failed their last attempt, as the worker wrapper
 * moved them to the `dead-letter` queue. A tenant key lists its own; the
 * admin key lists every tenant's, replays one into its origin queue (same
 * name and data, a new job id) or deletes one.
 */
export function deadLetterRoutes(deps: DeadLetterRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  const queue = deps.producer.queue(QueueName.deadLetter);
  const deadLetters = new DeadLetters(deps.producer, deps.redis);
  const idParam = z.object({ id: z.string().describe('dead letter id') });

  /** Runs `fn` holding the entry's lock; a concurrent replay or delete of the same entry gets 409. */
  const withEntryLock = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const lockKey = `${deps.producer.prefix}:${QueueName.deadLetter}:lock:${id}`;
    const token = randomUUID();
    const acquired = await deps.redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX');
    if (acquired !== 'OK') {
      throw new ApiError(409, 'dead_letter_busy', `dead letter ${id} is being replayed or deleted by another request`, { headers: { 'Retry-After': '1' } });
    }
    try {
      return await fn();
    } finally {
      await deps.redis.eval(UNLOCK_SCRIPT, 1, lockKey, token).catch((err: unknown) => deps.log.warn({ err, id }, 'could not release a dead-letter lock'));
    }
  };

  // Looked up after the lock is held: a replay that waited for another must see the entry gone.
  const findEntry = async (id: string): Promise<Job> => {
    const job = await queue.getJob(id);
    if (!job) throw new ApiError(404, 'dead_letter_not_found', `no dead letter ${id}`);
    return job;
  };

  router.get(
    '/dead-letters',
    {
      operationId: 'listDeadLetters',
      summary: 'Jobs that failed their last attempt',
      description: "With the admin key, every tenant's; with a tenant key, only that tenant's, without stack traces (they name hosts and paths).",
      tags: ['operations'],
      query: listQuery,
      responses: { 200: { description: 'one page of dead letters', schema: deadLetterPage } },
      example: { query: { limit: '10' } },
    },
    async (req, res, input) => {
      const q = input.query();
      const principal = req.principal!;
      if (!principal.isAdmin) {
        // A tenant's share: the index is by origin queue, not by tenant, so this
        // reads the entries (bounded by retention: KBFLOW_DEAD_LETTER_MAX_COUNT).
        const all = await queue.getJobs([...HELD_STATES], 0, -1);
        const mine = all.filter((job) => {
          const d = job?.data as { queue?: unknown; data?: { tenantId?: unknown } } | undefined;
          return d?.data?.tenantId === principal.tenantId && (!q.queue || d.queue === q.queue);
        });
        mine.sort((a, b) => b.timestamp - a.timestamp);
        const page = mine.slice(q.offset, q.offset + q.limit).map((job) => ({ ...entry(job), stacktrace: [] }));
        res.json({ total: mine.length, limit: q.limit, offset: q.offset, deadLetters: page });
        return;
      }
      if (q.queue) {
        // One page of the origin queue's index (newest first), never every entry.
        const { total, jobs } = await deadLetters.page(q.queue, q.offset, q.limit);
        res.json({ total, limit: q.limit, offset: q.offset, deadLetters: jobs.map(entry) });
        return;
      }
      const counts = await queue.getJobCounts(...HELD_STATES);
      const total = HELD_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
      // BullMQ applies start/end per state, so the page is mapped onto each state's range by hand.
      const jobs: Job[] = [];
      let skip = q.offset;
      let want = q.limit;
      for (const state of HELD_STATES) {
        const inState = counts[state] ?? 0;
        if (want === 0) break;
        if (skip >= inState) {
          skip -= inState;
          continue;
        }
        const page = await queue.getJobs([state], skip, skip + want - 1);
        jobs.push(...page);
        want -= page.length;
        skip = 0;
      }
      res.json({ total, limit: q.limit, offset: q.offset, deadLetters: jobs.map(entry) });
    },
  );

  router.post(
    '/dead-letters/:id/replay',
    {
      operationId: 'replayDeadLetter',
      summary: 'Replay a dead letter into its origin queue (admin)',
      tags: ['operations'],
      access: 'admin',
      params: idParam,
      responses: { 202: { description: 'the job was queued again', schema: deadLetterReplayed } },
      errors: { 404: ['dead_letter_not_found'], 409: ['dead_letter_busy'], 422: ['dead_letter_invalid', 'dead_letter_unreplayable'], 503: ['overloaded'] },
      example: { params: { id: '{deadLetterId}' } },
    },
    async (req, res) => {
      const id = String(req.params.id);
      const replayed = await withEntryLock(id, async () => {
        const job = await findEntry(id);
        const parsed = deadLetterData.safeParse(job.data);
        if (!parsed.success) throw new ApiError(422, 'dead_letter_invalid', `dead letter ${id} is not a dead-letter record`);
        const origin = ORIGIN_QUEUES.find((q) => q === parsed.data.queue);
        if (!origin || !(jobNamesOf(origin) as string[]).includes(parsed.data.jobName)) {
          throw new ApiError(
            422,
            'dead_letter_unreplayable',
            `dead letter ${id} names a job kbflow does not have: ${parsed.data.queue}/${parsed.data.jobName}`,
          );
        }
        const priority = replayPriority(origin);
        if (priority !== Priority.CRITICAL) await deps.admission.assertAccepting(origin);
        // A new id (the failed original may still sit in its queue's failed set
        // under the old one), derived from the entry so that even a replay whose
        // removal below failed cannot add the job twice.
        const jobId = `replay-${id}-${job.timestamp}`.replaceAll(':', '_');
        try {
          await deps.producer.enqueue(origin, parsed.data.jobName as never, parsed.data.data as never, { priority, jobId });
        } catch (error) {
          if ((error as Error).name === 'ZodError') {
            throw new ApiError(
              422,
              'dead_letter_invalid',
              `the payload of dead letter ${id} no longer matches ${origin}/${parsed.data.jobName}: ${(error as Error).message}`,
            );
          }
          throw error;
        }
        try {
          await deadLetters.remove(job);
        } catch (err) {
          deps.log.error({ err, id, jobId }, 'replayed a dead letter but could not remove it');
        }
        return { id, queue: origin, jobName: parsed.data.jobName, jobId, priority };
      });
      deps.log.info(replayed, 'dead letter replayed');
      res.status(202).json(replayed);
    },
  );

  router.delete(
    '/dead-letters/:id',
    {
      operationId: 'deleteDeadLetter',
      summary: 'Delete a dead letter (admin)',
      tags: ['operations'],
      access: 'admin',
      params: idParam,
      responses: { 204: { description: 'deleted' } },
      errors: { 404: ['dead_letter_not_found'], 409: ['dead_letter_busy'] },
      example: { params: { id: '{deadLetterId2}' } },
    },
    async (req, res) => {
      const id = String(req.params.id);
      await withEntryLock(id, async () => {
        const job = await findEntry(id);
        await deadLetters.remove(job);
      });
      res.status(204).end();
    },
  );

  return router;
}
