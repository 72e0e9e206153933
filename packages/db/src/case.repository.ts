import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import type { CaseFields } from './case-fields.ts';
import { syncCaseBatch, type CaseSyncBatch, type CaseSyncPrepare } from './case-sync.ts';
import type { Prisma } from './generated/client.ts';

export type { CaseSyncBatch, CaseSyncPlan, CaseSyncPrepare, PendingCase } from './case-sync.ts';

export interface CaseView extends CaseFields {
  id: string;
  knowledgeBaseId: string;
  category: string | null;
  missingFields: string[];
  complete: boolean | null;
  version: number;
  syncedVersion: number;
  /** A change case sync has not processed yet (`synced_version < version`). */
  pending: boolean;
  syncedAt: Date | null;
  documentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CaseListFilter {
  knowledgeBaseId: string;
  status?: string;
  category?: string;
  pending?: boolean;
  limit: number;
  /** Keyset position: the last case of the previous page (newest first). */
  after?: { createdAt: Date; id: string };
}

export interface CaseUpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

type CaseRow = Prisma.CaseGetPayload<object>;

function toView(row: CaseRow): CaseView {
  return {
    id: row.id,
    knowledgeBaseId: row.knowledgeBaseId,
    externalId: row.externalId,
    subject: row.subject,
    description: row.description,
    resolution: row.resolution,
    status: row.status,
    priority: row.priority,
    product: row.product,
    channel: row.channel,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    category: row.category,
    missingFields: row.missingFields,
    complete: row.complete,
    version: row.version,
    syncedVersion: row.syncedVersion,
    pending: row.syncedVersion < row.version,
    syncedAt: row.syncedAt,
    documentId: row.documentId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Support cases. Other systems write the `cases` table directly; a trigger
 * bumps `version` on every content change, and case sync processes each
 * version once ({@link CaseRepository.syncBatch}).
 */
export class CaseRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Creates one case; undefined when the tenant already has a case with this external id. */
  async create(tenantId: string, knowledgeBaseId: string, fields: CaseFields): Promise<CaseView | undefined> {
    const rows = await this.db.case.createManyAndReturn({
      data: [{ tenantId, knowledgeBaseId, ...fields, metadata: fields.metadata as Prisma.InputJsonValue }],
      skipDuplicates: true,
    });
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** One case of the tenant by id. */
  async get(tenantId: string, id: string): Promise<CaseView | undefined> {
    const row = await this.db.case.findFirst({ where: { id, tenantId } });
    return row ? toView(row) : undefined;
  }

  /** A page of a knowledge base's cases, newest first. */
  async list(tenantId: string, filter: CaseListFilter): Promise<CaseView[]> {
    const where: Prisma.CaseWhereInput = { tenantId, knowledgeBaseId: filter.knowledgeBaseId };
    if (filter.status !== undefined) where.status = { equals: filter.status, mode: 'insensitive' };
    if (filter.category !== undefined) where.category = filter.category;
    if (filter.pending !== undefined) {
      where.syncedVersion = filter.pending ? { lt: this.db.case.fields.version } : { gte: this.db.case.fields.version };
    }
    if (filter.after) {
      where.OR = [{ createdAt: { lt: filter.after.createdAt } }, { createdAt: filter.after.createdAt, id: { lt: filter.after.id } }];
    }
    const rows = await this.db.case.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: filter.limit });
    return rows.map(toView);
  }

  /** Changes a case's writer-owned fields; the trigger bumps its version when content changed. */
  async update(tenantId: string, id: string, patch: Partial<Omit<CaseFields, 'externalId'>>): Promise<CaseView | undefined> {
    const { metadata, ...rest } = patch;
    const data: Prisma.CaseUpdateManyMutationInput = { ...rest, ...(metadata !== undefined ? { metadata: metadata as Prisma.InputJsonValue } : {}) };
    const { count } = await this.db.case.updateMany({ where: { id, tenantId }, data });
    return count === 0 ? undefined : this.get(tenantId, id);
  }

  /**
   * Deletes a case and its document in one transaction. Returns what the
   * caller must remove from the vector store, or undefined for no such case.
   */
  async delete(tenantId: string, id: string): Promise<{ documentId: string | null; chunkIds: string[] } | undefined> {
    return this.db.$transaction(async (tx) => {
      // Waits for a running sync's row lock, so the document id returned is the latest.
      const deleted = await tx.$queryRaw<{ documentId: string | null }[]>`
        DELETE FROM cases WHERE id = ${id}::uuid AND tenant_id = ${tenantId}::uuid RETURNING document_id::text AS "documentId"`;
      if (deleted.length === 0) return undefined;
      const documentId = deleted[0]!.documentId;
      if (documentId === null) return { documentId, chunkIds: [] };
      const chunks = await tx.chunk.findMany({ where: { documentId, tenantId }, select: { id: true } });
      await tx.document.deleteMany({ where: { id: documentId, tenantId } });
      return { documentId, chunkIds: chunks.map((c) => c.id) };
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Creates or updates many cases by (tenant, external id), all or none: one
   * transaction of set-based statements (UPSERT_CHUNK rows each). A row whose
   * fields equal the stored ones is left alone (no new version). External
   * ids must be unique within `rows`. Rows are written in external id order,
   * so two concurrent upserts of overlapping sets lock rows in the same order
   * and cannot deadlock.
   */
  async upsertMany(tenantId: string, knowledgeBaseId: string, rows: CaseFields[]): Promise<CaseUpsertCounts> {
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0 };
    const sorted = [...rows].sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
    return this.db.$transaction(async (tx) => {
      const counts = { created: 0, updated: 0, unchanged: 0 };
      for (let i = 0; i < sorted.length; i += UPSERT_CHUNK) {
        const part = sorted.slice(i, i + UPSERT_CHUNK);
        const written = await upsertStatement(tx, tenantId, knowledgeBaseId, part);
        const created = written.filter((w) => w.inserted).length;
        counts.created += created;
        counts.updated += written.length - created;
        counts.unchanged += part.length - written.length;
      }
      return counts;
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Claims up to `limit` pending cases (`synced_version < version`) with
   * `FOR UPDATE SKIP LOCKED`, lets `prepare` decide each one's category,
   * completeness and document, writes all of it, logs each (case, version)
   * in `case_sync_log` and sets `synced_version` to the version read, in
   * one transaction. Concurrent runs skip each other's rows; a writer that
   * changes a claimed case waits for the commit and bumps the version past
   * the one recorded, so its change stays pending for the next batch.
   * Returns zero claimed when nothing is pending (or all of it is locked).
   */
  async syncBatch(opts: { limit: number; runId: string }, prepare: CaseSyncPrepare): Promise<CaseSyncBatch> {
    return this.db.$transaction((tx) => syncCaseBatch(tx, opts, prepare), TRANSACTION_OPTIONS);
  }

  /** How many cases wait for sync (all tenants, or one). */
  async countPending(tenantId?: string): Promise<number> {
    return this.db.case.count({ where: { ...(tenantId ? { tenantId } : {}), syncedVersion: { lt: this.db.case.fields.version } } });
  }
}

/** Rows per INSERT ... ON CONFLICT: each column travels as one array parameter. */
const UPSERT_CHUNK = 2000;

function upsertStatement(tx: Prisma.TransactionClient, tenantId: string, knowledgeBaseId: string, rows: CaseFields[]): Promise<{ inserted: boolean }[]> {
  const col = <K extends keyof CaseFields>(key: K) => rows.map((r) => r[key]);
  // xmax = 0 only on a freshly inserted row version: tells inserts from updates.
  // The WHERE leaves rows whose content is unchanged alone (no new version, not returned).
  return tx.$queryRaw<{ inserted: boolean }[]>`
    INSERT INTO cases (tenant_id, knowledge_base_id, external_id, subject, description, resolution, status, priority, product, channel, metadata)
    SELECT ${tenantId}::uuid, ${knowledgeBaseId}::uuid, t.external_id, t.subject, t.description, t.resolution, t.status, t.priority, t.product, t.channel, t.metadata::jsonb
    FROM unnest(${col('externalId')}::text[], ${col('subject')}::text[], ${col('description')}::text[], ${col('resolution')}::text[],
                ${col('status')}::text[], ${col('priority')}::text[], ${col('product')}::text[], ${col('channel')}::text[],
                ${rows.map((r) => JSON.stringify(r.metadata))}::text[])
      AS t(external_id, subject, description, resolution, status, priority, product, channel, metadata)
    ON CONFLICT (tenant_id, external_id) DO UPDATE SET
      knowledge_base_id = EXCLUDED.knowledge_base_id, subject = EXCLUDED.subject, description = EXCLUDED.description,
      resolution = EXCLUDED.resolution, status = EXCLUDED.status, priority = EXCLUDED.priority, product = EXCLUDED.product,
      channel = EXCLUDED.channel, metadata = EXCLUDED.metadata
    WHERE (cases.knowledge_base_id, cases.subject, cases.description, cases.resolution, cases.status, cases.priority, cases.product, cases.channel, cases.metadata)
      IS DISTINCT FROM
      (EXCLUDED.knowledge_base_id, EXCLUDED.subject, EXCLUDED.description, EXCLUDED.resolution, EXCLUDED.status, EXCLUDED.priority, EXCLUDED.product, EXCLUDED.channel, EXCLUDED.metadata)
    RETURNING (xmax = 0) AS inserted`;
}
