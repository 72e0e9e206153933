import {
  RecordSyncRefused,
  syncRefusal,
  type IngestParams,
  type PreparedRecord,
  type RecordRepository,
  type RecordWriter,
  type RecordWriteResult,
  type TaskRepository,
  type TenantRepository,
} from '@kbflow/db';
import { activeTraceId } from '@kbflow/observability';
import { Priority, QueueName, type FlowNode, type JobProducer } from '@kbflow/queues';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { deleted, recordsAccepted } from './responses.ts';
import { forEachBulkBatch } from '../http/bulk-rows.ts';
import { chunkRecord, groupByLimits, prepareRecord, recordUrl } from '../domain/record-document.ts';
import { isDeletion, toRecord } from '../domain/record-rows.ts';

export interface RecordRouteDeps {
  tenants: TenantRepository;
  tasks: TaskRepository;
  records: RecordRepository;
  producer: JobProducer;
  log: Logger;
  /** Cap on one request's (decoded) body: KBFLOW_RECORDS_MAX_BYTES. */
  maxBytes: number;
}

/** At most this many row errors go back in a response (`errorsTruncated` says when there were more). */
const MAX_ERRORS = 1000;
/**
 * Documents per `embed-documents` job: the catalog's cap. Each job is one
 * chunk read, embedder calls of 128 and one vector-store write, so fewer,
 * larger jobs mean fewer LanceDB commits (fragments) and queue round trips.
 */
const DOCUMENTS_PER_EMBED_JOB = 1000;
/** Rows read, validated and written per batch: bounds the api's memory per upload. */
const BATCH_ROWS = 2000;
/** The catalog's caps on one `embed-documents` / `delete-vectors` job. */
const MAX_STALE_PER_JOB = 20_000;
const DOCUMENTS_PER_DELETE_JOB = 1000;

const slug = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const column = z.string().trim().min(1).max(200);

const ingestFields = z.strictObject({
  knowledgeBase: z.string().regex(slug, 'must be a slug: lowercase letters, digits, - and _').default('default'),
  source: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-"')
    .default('records'),
  idColumn: column.optional(),
  titleColumn: column.optional(),
  bodyColumn: column.optional(),
  idPrefix: z.string().min(1).max(100).optional(),
  /** Rows of the same file sent in earlier requests: row numbers (and idPrefix ids) continue from here. */
  rowOffset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
  mode: z
    .enum(['incremental', 'full'])
    .default('incremental')
    .describe(
      "full: the upload is the whole source; the source's records it does not contain are deleted with their chunks and vectors, in the upload's transaction (skipped when a row is invalid: see pruneSkipped). With sync, the upload is the batches of that sync and only the final one deletes. incremental: only the rows sent are touched",
    ),
  sync: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{7,127}$/, 'must be 8-128 letters, digits, ".", "_" or "-", starting with a letter or digit (a UUID, say)')
    .optional()
    .describe(
      "mode=full over several requests: the id (chosen by the client, e.g. a UUID; unique within the tenant) that every batch of one upload carries. The record URLs of each batch are remembered; the batch with final=true deletes the source's records no batch named. Every batch must name the same knowledgeBase and source. An open sync with no batch for 24 h expires",
    ),
  final: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe("with sync: true on the sync's last batch, sent after every other batch was answered; it deletes and ends the sync"),
});

/**
 * A sync (several requests) is one mode=full upload, and final ends one:
 * either parameter alone names a request that cannot mean what it says, so
 * it is refused before anything is read or written.
 */
const ingestQuery = ingestFields.superRefine((q, ctx) => {
  if (q.sync !== undefined && q.mode !== 'full')
    ctx.addIssue({ code: 'custom', path: ['sync'], message: 'needs mode=full: a sync is the batches of one full upload' });
  if (q.final !== undefined && q.sync === undefined) ctx.addIssue({ code: 'custom', path: ['final'], message: 'needs sync: final ends a sync' });
});

const deleteQuery = ingestFields.pick({ knowledgeBase: true, source: true });

/**
 * Body errors of a sync's batch that hide nothing: an empty body names no
 * record, and a body cut short is a dropped connection the client sees as
 * one. Any other refused body may have held records the user means to keep.
 */
const HARMLESS_BODY_ERRORS = new Set(['no_rows', 'incomplete_body']);

const syncError = (refusal: RecordSyncRefused) => new ApiError(refusal.status, refusal.code, refusal.message, { field: refusal.field });

/** Documented only: rows are read (and validated one by one) by forEachBulkBatch, never parsed as a whole. */
const recordRows = z.array(
  z.looseObject({
    id: z.string().describe('the record id, unique within its source'),
    title: z.string().optional(),
    body: z.string().optional(),
    deleted: z.boolean().optional().describe('true removes the record'),
  }),
);

/**
 * Batch record ingestion. `POST /v1/records` reads the body as rows (JSON
 * array, NDJSON, CSV or a multipart upload), validates each row, stores the
 * valid ones as documents in one transaction, and hands new and changed
 * ones to the embedder as one BULK-priority flow per request. Invalid rows
 * are reported by row, field and reason; the valid rows are still stored.
 */
export function recordRoutes(deps: RecordRouteDeps): ApiRoutes {
  const router = new ApiRoutes();

  router.post(
    '/records',
    {
      operationId: 'ingestRecords',
      summary: 'Ingest records in bulk',
      description:
        'Rows as a JSON array, NDJSON, CSV with a header row, or a multipart upload whose `file` part is one of those (gzip and deflate Content-Encodings are decoded). Rows are validated and written as they are read, in batches, in one transaction with the task: a body that turns out malformed half-way writes nothing. Invalid rows are reported by row, field and reason.',
      tags: ['records'],
      query: ingestQuery,
      body: recordRows,
      extraBodies: [
        { contentType: 'application/x-ndjson', description: 'one JSON record per line' },
        { contentType: 'text/csv', description: 'a header row, then one record per row (see idColumn, titleColumn, bodyColumn)' },
        {
          contentType: 'multipart/form-data',
          description: 'a `file` part holding JSON, NDJSON or CSV',
          schema: z.object({ file: z.string().meta({ format: 'binary' }) }),
        },
      ],
      responses: { 202: { description: 'the rows were stored; their embedding runs as the task', schema: recordsAccepted } },
      errors: {
        400: ['no_rows', 'invalid_rows', 'invalid_field', 'sync_mismatch'],
        409: ['sync_finished', 'sync_expired'],
        413: ['payload_too_large'],
        415: ['unsupported_media_type'],
        503: ['queue_unavailable', 'overloaded', 'write_conflict'],
      },
      example: { query: { source: 'contract' }, body: [{ id: 'r-1', title: 'Password reset', body: 'Reset a password from the account page.' }] },
    },
    async (req, res, input) => {
      const params = input.query();
      const tenantId = req.principal!.tenantId;
      const maxDocuments = req.principal!.limits.maxDocumentsPerKnowledgeBase;
      const mapping = { idColumn: params.idColumn, titleColumn: params.titleColumn, bodyColumn: params.bodyColumn, idPrefix: params.idPrefix };
      const sync = params.sync === undefined ? undefined : { id: params.sync, final: params.final ?? false };
      if (sync) {
        // Checked before anything is written (even a new knowledge base): a
        // batch its sync refuses leaves no trace. The writer checks again
        // under the row's lock, for a batch racing this one.
        const knowledgeBaseId = await deps.tenants.findKnowledgeBaseId(tenantId, params.knowledgeBase);
        const refusal = syncRefusal(sync.id, await deps.records.findSync(tenantId, sync.id), { knowledgeBaseId, source: params.source });
        if (refusal) throw syncError(refusal);
      }

      // The body is written batch by batch as it is read, in one transaction
      // (RecordWriter): a body that turns out malformed half-way, or holds no
      // valid row, is rolled back and leaves nothing behind, and the api holds
      // one batch at a time instead of the whole upload.
      const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, params.knowledgeBase);
      let written: RecordWriteResult;
      let rows: Awaited<ReturnType<typeof forEachBulkBatch>>;
      // The ingest task is created in the write's transaction: with the
      // documents at the commit, or (rolled back, or the api killed) never.
      const writer: RecordWriter = await deps.records.openWriter({
        tenantId,
        knowledgeBaseId,
        source: params.source,
        chunk: chunkRecord,
        traceId: activeTraceId(),
        mode: params.mode,
        sync,
      });
      // mode=full deletes what the upload does not contain; an invalid row may
      // be a record the user means to keep (its id unreadable, or its body),
      // so with any invalid row nothing is deleted for being missing.
      let pruneSkipped: string | undefined;
      let syncReport: { id: string; batches: number; final: boolean } | undefined;
      // A sync's batch refused for its body may have held records to keep: the sync remembers it, so its final batch deletes nothing.
      const rejectSyncBatch = () => deps.records.rejectSyncBatch({ tenantId, knowledgeBaseId, source: params.source, id: sync!.id });
      const taskId = writer.taskId;
      try {
        const open = writer;
        rows = await forEachBulkBatch(
          req,
          {
            maxBytes: deps.maxBytes,
            batchSize: BATCH_ROWS,
            rowOffset: params.rowOffset,
            maxErrors: MAX_ERRORS,
            map: (row, fields) => toRecord(row, fields, mapping),
            idOf: (record) => record.id,
            idField: 'id',
          },
          async (batch) => {
            const records: PreparedRecord[] = [];
            const deleteUrls: string[] = [];
            const idOfUrl = new Map<string, string>();
            for (const mapped of batch) {
              if (isDeletion(mapped)) deleteUrls.push(recordUrl(params.source, mapped.id));
              else {
                const { id } = mapped as { id: string };
                const record = prepareRecord(params.source, mapped);
                idOfUrl.set(record.url, id);
                records.push(record);
              }
            }
            // Rows over the knowledge base's quota are invalid rows of their own; the rest are stored.
            const { admitted, refused } = await open.withinQuota(records, maxDocuments);
            await open.add(admitted);
            await open.delete(deleteUrls);
            return refused.map((record) => ({
              id: idOfUrl.get(record.url)!,
              field: 'id',
              reason: `knowledge base "${params.knowledgeBase}" is at its quota of ${maxDocuments} documents (maxDocumentsPerKnowledgeBase): this new record was not stored`,
            }));
          },
        );
        const report = { received: rows.received, invalid: rows.invalid, errors: rows.errors, errorsTruncated: rows.errorsTruncated };
        if (rows.received === 0) throw new ApiError(400, 'no_rows', 'the body has no rows', { field: 'body' });
        if (rows.received === rows.invalid) {
          await writer.rollback();
          if (sync) await rejectSyncBatch();
          res.status(400).json({ error: { code: 'invalid_rows', message: `all ${rows.received} rows are invalid`, field: 'body' }, ...report });
          return;
        }
        if (sync) {
          const closed = await writer.closeSyncBatch(rows.invalid);
          syncReport = { id: sync.id, batches: closed.sync.batches, final: sync.final };
          if (sync.final && closed.deleted === undefined)
            pruneSkipped = `sync "${sync.id}" had ${closed.sync.invalid} invalid rows and ${closed.sync.rejected} rejected batches: no record was deleted for being missing`;
        } else if (params.mode === 'full') {
          if (rows.invalid > 0) pruneSkipped = `${rows.invalid} invalid rows: no record was deleted for being missing`;
          else await writer.deleteMissing();
        }
        written = await writer.commit();
      } catch (error) {
        await writer.rollback();
        if (error instanceof RecordSyncRefused) throw syncError(error);
        if (sync && error instanceof ApiError && error.status < 500 && !HARMLESS_BODY_ERRORS.has(error.code)) await rejectSyncBatch();
        // Batches are sorted, but two uploads of overlapping records can still
        // lock them in opposite orders across batches; PostgreSQL then aborts
        // one of them, which is safe to send again.
        if ((error as { code?: unknown }).code === '40P01') {
          throw new ApiError(503, 'write_conflict', 'another upload was writing the same records; nothing was stored, send the request again', {
            headers: { 'Retry-After': '1' },
          });
        }
        throw error;
      }
      await deps.records.finishWrite(written);
      const { received, invalid, errors } = rows;
      const report = { errorsTruncated: rows.errorsTruncated };
      const counts: IngestParams = {
        source: params.source,
        received,
        accepted: received - invalid,
        unchanged: written.unchanged,
        deleted: written.deleted.documentIds.length,
        invalid,
        toEmbed: written.changed.length,
      };
      await deps.tasks.recordIngest(taskId, counts);
      try {
        await enqueue(deps, tenantId, taskId, written);
      } catch (error) {
        // The rows are stored (status `indexing`): a retry of the request finds them changed-but-not-indexed and re-queues them.
        await deps.tasks.deleteTask(taskId);
        deps.log.error({ err: error, taskId }, 'could not enqueue ingest jobs');
        throw new ApiError(503, 'queue_unavailable', 'the records were stored but could not be queued for embedding; send the request again', {
          headers: { 'Retry-After': '5' },
        });
      }
      if (written.changed.length === 0) await deps.tasks.finishIngest(taskId);
      const { source: _source, toEmbed: _toEmbed, ...shown } = counts;
      res.status(202).json({
        taskId,
        ...shown,
        errors,
        errorsTruncated: report.errorsTruncated,
        ...(pruneSkipped ? { pruneSkipped } : {}),
        ...(syncReport ? { sync: syncReport } : {}),
      });
    },
  );

  router.delete(
    '/records/:id',
    {
      operationId: 'deleteRecord',
      summary: 'Delete one record and its vectors',
      tags: ['records'],
      params: z.object({ id: z.string().describe('the record id (1-256 characters)') }),
      query: deleteQuery,
      responses: { 200: { description: 'the record is gone', schema: deleted } },
      errors: { 404: ['record_not_found'] },
      example: { params: { id: 'r-1' }, query: { source: 'contract' } },
    },
    async (req, res, input) => {
      const params = input.query();
      const id = z.string().trim().min(1).max(256).safeParse(req.params.id);
      if (!id.success) throw new ApiError(400, 'invalid_field', 'must be a record id of 1-256 characters', { field: 'id' });
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await deps.tenants.findKnowledgeBaseId(tenantId, params.knowledgeBase);
      const removed = knowledgeBaseId ? await deps.records.delete(knowledgeBaseId, recordUrl(params.source, id.data)) : undefined;
      if (!removed) throw new ApiError(404, 'record_not_found', `no record "${id.data}" in source "${params.source}"`, { field: 'id' });
      await enqueueVectorDeletion(deps.producer, tenantId, { documentIds: [removed.documentId], chunkIds: removed.chunkIds });
      res.json({ id: id.data, deleted: true });
    },
  );

  return router;
}

/** The request's jobs: vector removals for deletions (HIGH), one embed flow for new and changed documents (BULK). */
async function enqueue(deps: RecordRouteDeps, tenantId: string, taskId: string, written: RecordWriteResult): Promise<void> {
  if (written.deleted.documentIds.length > 0) await enqueueVectorDeletion(deps.producer, tenantId, written.deleted);
  if (written.changed.length === 0) return;
  const groups = groupByLimits(written.changed, DOCUMENTS_PER_EMBED_JOB, MAX_STALE_PER_JOB, (c) => c.staleChunkIds.length);
  const children: FlowNode[] = groups.map((group, i) => ({
    queue: QueueName.embed,
    name: 'embed-documents',
    data: { tenantId, taskId, documentIds: group.map((c) => c.documentId), staleChunkIds: group.flatMap((c) => c.staleChunkIds), correlationId: taskId },
    opts: { priority: Priority.BULK, jobId: `ingest-${taskId}-${i}`, ignoreDependencyOnFailure: true },
  }));
  await deps.producer.enqueueFlow({
    queue: QueueName.aggregate,
    name: 'complete-ingest',
    data: { tenantId, taskId, correlationId: taskId },
    opts: { priority: Priority.BULK, jobId: `ingest-${taskId}` },
    children,
  });
}

/**
 * Deleted records' vectors go at HIGH priority: a removed record must stop
 * showing up in answers soon, whatever bulk work is queued.
 */
async function enqueueVectorDeletion(producer: JobProducer, tenantId: string, deleted: { documentIds: string[]; chunkIds: string[] }): Promise<void> {
  const docGroups = groupByLimits(deleted.documentIds, DOCUMENTS_PER_DELETE_JOB, Infinity, () => 0);
  const chunkGroups = groupByLimits(deleted.chunkIds, MAX_STALE_PER_JOB, Infinity, () => 0);
  const jobs = Array.from({ length: Math.max(docGroups.length, chunkGroups.length) }, (_, i) => ({
    data: { tenantId, documentIds: docGroups[i] ?? [], chunkIds: chunkGroups[i] ?? [] },
    opts: { priority: Priority.HIGH },
  }));
  await producer.enqueueBulk(QueueName.embed, 'delete-vectors', jobs);
}
