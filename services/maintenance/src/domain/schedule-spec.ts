import { CronExpressionParser } from 'cron-parser';
import ms from 'ms';

/** How a BullMQ job scheduler repeats: a fixed interval or a cron pattern. */
export type ScheduleSpec = { every: number } | { pattern: string };

/** Intervals below a second would busy the maintenance queue for nothing. */
const MIN_EVERY_MS = 1000;

/**
 * Reads a schedule as an operator writes it: a cron pattern of 5 fields
 * (minute precision) or 6 (with seconds), or an interval as milliseconds
 * (`1800000`) or a short duration (`30m`, `2h`, `1d`, parsed by `ms`).
 * Returns the reason when the value is neither.
 */
export function parseScheduleSpec(value: string): { ok: true; spec: ScheduleSpec } | { ok: false; reason: string } {
  const text = value.trim();
  const fields = text.split(/\s+/);
  if (fields.length >= 5) {
    if (fields.length > 6) return { ok: false, reason: `a cron pattern has 5 or 6 fields, got ${fields.length}` };
    try {
      // The same parser (and version) BullMQ schedules cron patterns with.
      CronExpressionParser.parse(text);
    } catch (error) {
      return { ok: false, reason: `invalid cron pattern: ${(error as Error).message}` };
    }
    return { ok: true, spec: { pattern: fields.join(' ') } };
  }
  // ms() throws on an empty string and answers undefined for what it cannot read.
  const every = /^\d+$/.test(text) ? Number(text) : text === '' ? undefined : ms(text as ms.StringValue);
  if (typeof every !== 'number' || !Number.isFinite(every)) {
    return { ok: false, reason: 'must be an interval (milliseconds or a duration like 30m, 2h) or a 5/6-field cron pattern' };
  }
  if (every < MIN_EVERY_MS) return { ok: false, reason: `an interval must be at least ${MIN_EVERY_MS} ms` };
  if (!Number.isInteger(every)) return { ok: false, reason: 'an interval must be a whole number of milliseconds' };
  return { ok: true, spec: { every } };
}

/** Like {@link parseScheduleSpec}, for values already validated at start (env.ts); throws otherwise. */
export function toScheduleSpec(value: string): ScheduleSpec {
  const parsed = parseScheduleSpec(value);
  if (!parsed.ok) throw new Error(`invalid schedule ${JSON.stringify(value)}: ${parsed.reason}`);
  return parsed.spec;
}
