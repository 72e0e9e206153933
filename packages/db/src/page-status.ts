import type { PageChange, PageStatus } from './task-types.ts';

/** What a step learned about a page, beside its status; a field left out keeps its value, the error is cleared unless given. */
export interface PageStatusExtra {
  documentId?: string;
  error?: string;
  change?: PageChange;
  httpStatus?: number;
  bytes?: number;
}

/** A page's status and what came with it, to record. */
export interface PageSettlement {
  status: PageStatus;
  extra?: PageStatusExtra;
}

/**
 * The SET list that records a page's status, its parameters numbered from
 * `$at` (ten of them, in the order of {@link pageStatusParams}). Shared by
 * TaskRepository.setPageStatus and claimLinks, which records a 304 page's
 * status in the round trip that finds it has no link left to queue.
 */
export function pageStatusSet(at: number): string {
  const p = (i: number) => `$${at + i}`;
  return `status = ${p(0)}, error = ${p(1)}, updated_at = now(),
         document_id = CASE WHEN ${p(2)}::boolean THEN ${p(3)}::uuid ELSE document_id END,
         change = CASE WHEN ${p(4)}::boolean THEN ${p(5)} ELSE change END,
         http_status = CASE WHEN ${p(6)}::boolean THEN ${p(7)}::int ELSE http_status END,
         bytes = CASE WHEN ${p(8)}::boolean THEN ${p(9)}::int ELSE bytes END`;
}

/** The ten parameters of {@link pageStatusSet}. */
export function pageStatusParams({ status, extra = {} }: PageSettlement): unknown[] {
  return [
    status,
    extra.error?.slice(0, 2000) ?? null,
    extra.documentId !== undefined,
    extra.documentId ?? null,
    extra.change !== undefined,
    extra.change ?? null,
    extra.httpStatus !== undefined,
    extra.httpStatus ?? null,
    extra.bytes !== undefined,
    extra.bytes ?? null,
  ];
}
