import { CronExpressionParser } from 'cron-parser';
import ms from 'ms';
import { Priority } from './priorities.ts';
import { QueueName } from './catalog.ts';
import type { JobProducer } from './producer.ts';

/** A source's schedule as the client writes it. */
export type SourceScheduleInput = { every: string } | { cron: string; tz?: string | undefined };

/** What BullMQ's job scheduler takes. */
export type SchedulerRepeat = { every: number } | { pattern: string; tz?: string };

/** The production floor of `every` (KBFLOW_SOURCE_MIN_INTERVAL lowers it for tests): a site crawled more often than this is hammered. */
export const DEFAULT_SOURCE_MIN_INTERVAL_MS = 60_000;

/**
 * Reads and checks a source's schedule. `every` is a duration (`6h`, `30m`,
 * read by `ms`) of at least `minEveryMs`; `cron` is a 5-field pattern or a
 * 6-field one whose seconds field names a single second (so at most one
 * run a minute), in `tz` (an IANA zone, UTC by default). Returns the field
 * at fault and why otherwise.
 */
export function parseSourceSchedule(
  input: SourceScheduleInput,
  minEveryMs: number,
): { ok: true; repeat: SchedulerRepeat } | { ok: false; field: 'every' | 'cron' | 'tz'; reason: string } {
  if ('every' in input) {
    const text = input.every.trim();
    const every = text === '' ? undefined : ms(text as ms.StringValue);
    if (typeof every !== 'number' || !Number.isFinite(every) || every <= 0)
      return { ok: false, field: 'every', reason: 'must be a duration like 30m, 6h or 1d' };
    if (every < minEveryMs) return { ok: false, field: 'every', reason: `must be at least ${ms(minEveryMs, { long: true })}` };
    return { ok: true, repeat: { every: Math.round(every) } };
  }
  if (input.tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: input.tz });
    } catch {
      return { ok: false, field: 'tz', reason: 'must be an IANA time zone, e.g. Europe/Paris' };
    }
  }
  const fields = input.cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return { ok: false, field: 'cron', reason: `a cron pattern has 5 or 6 fields, got ${fields.length}` };
  let seconds: readonly number[];
  try {
    // The parser (and version) BullMQ schedules cron patterns with.
    seconds = CronExpressionParser.parse(fields.join(' '), input.tz ? { tz: input.tz } : {}).fields.second.values;
  } catch (error) {
    return { ok: false, field: 'cron', reason: `invalid cron pattern: ${(error as Error).message}` };
  }
  if (seconds.length !== 1) return { ok: false, field: 'cron', reason: 'runs more than once a minute (the seconds field must name one second)' };
  return { ok: true, repeat: { pattern: fields.join(' '), ...(input.tz ? { tz: input.tz } : {}) } };
}

/**
 * The time between two runs of a schedule, in ms: `every` itself; for a
 * cron pattern, the gap between its next two firings after `from` (a
 * pattern with uneven gaps, such as "0 9 * * 1-5", gives the one coming
 * next). Undefined for a schedule that does not parse.
 */
export function scheduleIntervalMs(input: SourceScheduleInput, from = new Date()): number | undefined {
  const parsed = parseSourceSchedule(input, 0);
  if (!parsed.ok) return undefined;
  if ('every' in parsed.repeat) return parsed.repeat.every;
  const it = CronExpressionParser.parse(parsed.repeat.pattern, { currentDate: from, ...(parsed.repeat.tz ? { tz: parsed.repeat.tz } : {}) });
  const first = it.next().getTime();
  return it.next().getTime() - first;
}

/** The job scheduler of a source, on the maintenance queue. */
export function sourceSchedulerKey(sourceId: string): string {
  return `source-${sourceId}`;
}

/**
 * Registers or updates a source's job scheduler. Idempotent (BullMQ keys
 * the scheduler and each iteration), so the api's create/patch and
 * maintenance's re-registration at start cannot add runs.
 */
export async function upsertSourceSchedule(
  producer: JobProducer,
  source: { id: string; tenantId: string; schedule: SourceScheduleInput },
  minEveryMs = 0,
): Promise<void> {
  const parsed = parseSourceSchedule(source.schedule, minEveryMs);
  if (!parsed.ok) throw new Error(`source ${source.id}: invalid schedule (${parsed.field}: ${parsed.reason})`);
  await producer.queue(QueueName.maintenance).upsertJobScheduler(sourceSchedulerKey(source.id), parsed.repeat, {
    name: 'run-source',
    data: { tenantId: source.tenantId, sourceId: source.id },
    opts: { priority: Priority.LOW },
  });
}

/** Removes a source's job scheduler (its pending iteration goes with it). */
export async function removeSourceSchedule(producer: JobProducer, sourceId: string): Promise<void> {
  await producer.queue(QueueName.maintenance).removeJobScheduler(sourceSchedulerKey(sourceId));
}

/** When a source's next scheduled run is due, if its scheduler exists. */
export async function nextSourceRun(producer: JobProducer, sourceId: string): Promise<Date | undefined> {
  const scheduler = await producer.queue(QueueName.maintenance).getJobScheduler(sourceSchedulerKey(sourceId));
  return scheduler?.next ? new Date(scheduler.next) : undefined;
}
