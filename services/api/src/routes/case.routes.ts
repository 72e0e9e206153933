import { randomUUID } from 'node:crypto';
import type { CaseFields, CaseRepository, CaseView, TenantRepository } from '@kbflow/db';
import { Priority, QueueName, type JobProducer } from '@kbflow/queues';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError, parseBody } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { caseView, casesBulkResult, casesPage, deleted } from './responses.ts';
import { streamsBody } from '../http/bulk-body.ts';
import { collectBulkRows } from '../http/bulk-rows.ts';
import { CASE_LIMITS, caseFieldsSchema, toCaseRow, type CaseColumnMapping, type CaseRow } from '../domain/case-rows.ts';
import { storable } from '../domain/storable-text.ts';

export interface CaseRouteDeps {
  tenants: TenantRepository;
  cases: CaseRepository;
  producer: JobProducer;
  log: Logger;
  /** Cap on one bulk body (decoded); the records' KBFLOW_RECORDS_MAX_BYTES. */
  maxBytes: number;
}

/** At most this many row errors go back in a response (`errorsTruncated` says when there were more). */
const MAX_ERRORS = 1000;

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _');
const knowledgeBase = slug.default('default');
const column = z.string().trim().min(1).max(200).optional();

const bulkQuery = z.strictObject({
  knowledgeBase,
  idColumn: column,
  titleColumn: column,
  bodyColumn: column,
  resolutionColumn: column,
  statusColumn: column,
  priorityColumn: column,
  productColumn: column,
  channelColumn: column,
  idPrefix: z.string().min(1).max(100).optional(),
  /** Rows of the same file sent in earlier requests: row numbers (and idPrefix ids) continue from here. */
  rowOffset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
});

const createBody = z.strictObject({ ...caseFieldsSchema.shape, externalId: caseFieldsSchema.shape.externalId.optional(), knowledgeBase: slug.optional() });
const createQuery = z.strictObject({ knowledgeBase: slug.optional() });

const optionalText = (max: number) => z.string().max(max, `must be at most ${max} characters`).optional();
const patchBody = z
  .strictObject({
    subject: caseFieldsSchema.shape.subject.optional(),
    description: optionalText(CASE_LIMITS.textMax),
    resolution: optionalText(CASE_LIMITS.textMax),
    status: optionalText(CASE_LIMITS.shortMax),
    priority: optionalText(CASE_LIMITS.shortMax),
    product: optionalText(CASE_LIMITS.shortMax),
    channel: optionalText(CASE_LIMITS.shortMax),
    metadata: caseFieldsSchema.shape.metadata.unwrap().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'must change at least one field', path: ['body'] });

const listQuery = z.strictObject({
  knowledgeBase,
  status: z.string().min(1).max(CASE_LIMITS.shortMax).optional(),
  category: z.string().min(1).max(40).optional(),
  pending: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const caseId = z.uuid();

/** The public shape of a case. */
function caseResponse(c: CaseView) {
  return {
    id: c.id,
    externalId: c.externalId,
    subject: c.subject,
    description: c.description,
    resolution: c.resolution,
    status: c.status,
    priority: c.priority,
    product: c.product,
    channel: c.channel,
    metadata: c.metadata,
    category: c.category,
    complete: c.complete,
    missingFields: c.missingFields,
    version: c.version,
    syncedVersion: c.syncedVersion,
    pending: c.pending,
    syncedAt: c.syncedAt?.toISOString() ?? null,
    documentId: c.documentId,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** Keyset cursors: the last case of a page, opaque to clients. */
function encodeCursor(c: CaseView): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const createdAt = new Date(String(at));
    if (Number.isNaN(createdAt.getTime()) || !caseId.safeParse(id).success) throw new Error('bad cursor');
    return { createdAt, id: id as string };
  } catch {
    throw new ApiError(400, 'invalid_field', 'not a cursor from a previous page', { field: 'cursor' });
  }
}

function fieldsOf(row: Omit<CaseRow, 'row'>): CaseFields {
  const { externalId, subject, description, resolution, status, priority, product, channel, metadata } = row;
  return { externalId, subject, description, resolution, status, priority, product, channel, metadata };
}

/**
 * Support cases. Writes only touch the `cases` table: the case-sync
 * schedule (maintenance) categorizes, checks and vectorizes every change,
 * the same way it picks up cases other systems write directly.
 */
export function caseRoutes(deps: CaseRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  const idParam = z.object({ id: z.string().describe('case id (UUID)') });
  const notFound = { 404: ['case_not_found'] };

  const caseOf = async (req: Request): Promise<CaseView> => {
    const id = caseId.safeParse(req.params.id);
    const found = id.success ? await deps.cases.get(req.principal!.tenantId, id.data) : undefined;
    if (!found) throw new ApiError(404, 'case_not_found', `no case ${String(req.params.id)}`, { field: 'id' });
    return found;
  };

  router.post(
    '/cases',
    {
      operationId: 'createCases',
      summary: 'Create one case, or many in bulk',
      description:
        'A JSON object creates one case (201; only `knowledgeBase` is read from the query). A JSON array, NDJSON, CSV or a multipart `file` upload creates or updates many (202), with the column parameters of the query.',
      tags: ['cases'],
      query: bulkQuery,
      body: createBody,
      extraBodies: [
        { contentType: 'application/x-ndjson', description: 'one case per line' },
        { contentType: 'text/csv', description: 'a header row, then one case per row' },
        {
          contentType: 'multipart/form-data',
          description: 'a `file` part holding JSON, NDJSON or CSV',
          schema: z.object({ file: z.string().meta({ format: 'binary' }) }),
        },
      ],
      responses: { 201: { description: 'the case (single create)', schema: caseView }, 202: { description: 'bulk counts', schema: casesBulkResult } },
      errors: { 400: ['no_rows', 'invalid_rows'], 409: ['case_exists'], 413: ['payload_too_large'], 415: ['unsupported_media_type'] },
      example: { body: { externalId: 'contract-1', subject: 'Cannot log in', description: 'The login page says my password is wrong after the reset.' } },
    },
    async (req, res) => {
      // CSV, NDJSON and uploads arrive as streams; JSON was parsed: an array is a bulk, an object one case.
      if (streamsBody(req) || Array.isArray(req.body)) return bulkCreate(req, res, deps);
      const query = parseBody(createQuery, req.query);
      const { knowledgeBase: inBody, ...fields } = parseBody(createBody, storable(req.body));
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, inBody ?? query.knowledgeBase ?? 'default');
      const created = await deps.cases.create(tenantId, knowledgeBaseId, fieldsOf({ ...fields, externalId: fields.externalId ?? randomUUID() }));
      if (!created)
        throw new ApiError(409, 'case_exists', `a case with externalId "${fields.externalId}" exists; change it with PATCH /v1/cases/:id`, {
          field: 'externalId',
        });
      res.status(201).json(caseResponse(created));
    },
  );

  router.get(
    '/cases',
    {
      operationId: 'listCases',
      summary: 'List cases, newest first',
      tags: ['cases'],
      query: listQuery,
      responses: { 200: { description: 'one page; pass nextCursor as cursor for the next', schema: casesPage } },
      example: { query: { limit: '10' } },
    },
    async (req, res) => {
      // Filters compare with stored text, which never holds NUL (PostgreSQL refuses it in a parameter too).
      const query = parseBody(listQuery, storable(req.query));
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await deps.tenants.findKnowledgeBaseId(tenantId, query.knowledgeBase);
      const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
      const cases = knowledgeBaseId
        ? await deps.cases.list(tenantId, {
            knowledgeBaseId,
            status: query.status,
            category: query.category,
            pending: query.pending,
            limit: query.limit,
            after,
          })
        : [];
      res.json({ cases: cases.map(caseResponse), nextCursor: cases.length === query.limit ? encodeCursor(cases.at(-1)!) : null });
    },
  );

  router.get(
    '/cases/:id',
    {
      operationId: 'getCase',
      summary: 'One case',
      tags: ['cases'],
      params: idParam,
      responses: { 200: { description: 'the case', schema: caseView } },
      errors: notFound,
      example: { params: { id: '{caseId}' } },
    },
    async (req, res) => {
      res.json(caseResponse(await caseOf(req)));
    },
  );

  router.patch(
    '/cases/:id',
    {
      operationId: 'updateCase',
      summary: 'Change a case',
      tags: ['cases'],
      params: idParam,
      body: patchBody,
      responses: { 200: { description: 'the changed case', schema: caseView } },
      errors: notFound,
      example: { params: { id: '{caseId}' }, body: { status: 'closed' } },
    },
    async (req, res) => {
      const patch = parseBody(patchBody, storable(req.body));
      const id = caseId.safeParse(req.params.id);
      const updated = id.success ? await deps.cases.update(req.principal!.tenantId, id.data, patch) : undefined;
      if (!updated) throw new ApiError(404, 'case_not_found', `no case ${String(req.params.id)}`, { field: 'id' });
      res.json(caseResponse(updated));
    },
  );

  router.delete(
    '/cases/:id',
    {
      operationId: 'deleteCase',
      summary: 'Delete a case and its vectors',
      tags: ['cases'],
      params: idParam,
      responses: { 200: { description: 'the case is gone', schema: deleted } },
      errors: notFound,
      example: { params: { id: '{caseId}' } },
    },
    async (req, res) => {
      const existing = await caseOf(req);
      const tenantId = req.principal!.tenantId;
      const removed = await deps.cases.delete(tenantId, existing.id);
      if (!removed) throw new ApiError(404, 'case_not_found', `no case ${existing.id}`, { field: 'id' });
      if (removed.documentId !== null) {
        // After the commit: were this to fail, the vectorization sweep deletes vectors that have no row.
        await deps.producer
          .enqueue(QueueName.embed, 'delete-vectors', { tenantId, documentIds: [removed.documentId], chunkIds: removed.chunkIds }, { priority: Priority.HIGH })
          .catch((err: unknown) => deps.log.error({ err, caseId: existing.id }, 'could not enqueue vector deletion of a deleted case'));
      }
      res.json({ id: existing.id, deleted: true });
    },
  );

  return router;
}

/**
 * Many cases at once (JSON array, NDJSON, CSV or a multipart upload). Every
 * row is read and validated before anything is written, and the valid rows
 * go in one transaction: a body that turns out malformed half-way leaves
 * nothing behind. Invalid rows are reported by row, field and reason.
 */
async function bulkCreate(req: Request, res: Response, deps: CaseRouteDeps): Promise<void> {
  const params = parseBody(bulkQuery, req.query);
  const mapping: CaseColumnMapping = {
    columns: {
      externalId: params.idColumn,
      subject: params.titleColumn,
      description: params.bodyColumn,
      resolution: params.resolutionColumn,
      status: params.statusColumn,
      priority: params.priorityColumn,
      product: params.productColumn,
      channel: params.channelColumn,
    },
    idPrefix: params.idPrefix,
  };
  const rows = await collectBulkRows(req, {
    maxBytes: deps.maxBytes,
    batchSize: 1000,
    rowOffset: params.rowOffset,
    maxErrors: MAX_ERRORS,
    map: (row, fields) => toCaseRow(row, fields, mapping),
    idOf: (mapped) => mapped.externalId,
    idField: 'externalId',
  });
  const { received, invalid, errors } = rows;
  const valid = rows.valid.map(fieldsOf);
  const report = { received, invalid, errors, errorsTruncated: rows.errorsTruncated };
  if (received === 0) throw new ApiError(400, 'no_rows', 'the body has no rows', { field: 'body' });
  if (valid.length === 0) {
    res.status(400).json({ error: { code: 'invalid_rows', message: `all ${received} rows are invalid`, field: 'body' }, ...report });
    return;
  }
  const tenantId = req.principal!.tenantId;
  const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, params.knowledgeBase);
  const counts = await deps.cases.upsertMany(tenantId, knowledgeBaseId, valid);
  res.status(202).json({ received, ...counts, invalid, errors, errorsTruncated: report.errorsTruncated });
}
