/**
 * BullMQ runs unprioritized jobs before prioritized ones, so every kbflow job
 * carries one of these explicitly (lower runs first).
 */
export const Priority = {
  /** Interactive queries: a person waits on the HTTP request. */
  CRITICAL: 1,
  HIGH: 2,
  /** The default for submitted work (crawls, scrapes). */
  NORMAL: 5,
  /** Background work (schedules). */
  LOW: 8,
  /** Backfills and bulk record ingestion. */
  BULK: 10,
} as const;

export type PriorityName = keyof typeof Priority;
export type PriorityValue = (typeof Priority)[PriorityName];
