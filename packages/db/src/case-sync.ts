import { randomUUID } from 'node:crypto';
import type { ChunkInput } from './document.repository.ts';
import type { Prisma } from './generated/client.ts';
import type { CaseFields } from './case-fields.ts';
import { deterministicUuid } from './ids.ts';

/** A claimed case as case sync reads it (the version is the one it will record). */
export interface PendingCase extends Omit<CaseFields, 'metadata'> {
  id: string;
  tenantId: string;
  knowledgeBaseId: string;
  version: number;
  documentId: string | null;
}

/** What case sync decided for one claimed case. */
export interface CaseSyncPlan {
  caseId: string;
  category: string;
  complete: boolean;
  missingFields: string[];
  document: {
    url: string;
    title: string;
    markdown: string;
    contentHash: string;
    metadata: Record<string, unknown>;
    chunks: ChunkInput[];
  };
}

export interface CaseSyncBatch {
  /** Rows claimed by this batch. */
  claimed: number;
  /** The case versions this batch processed, each logged once. */
  processed: { caseId: string; tenantId: string; version: number; category: string; complete: boolean }[];
  /** Claimed versions already in `case_sync_log` (processed before): only marked synced, not written again. */
  alreadyProcessed: number;
  /** Per tenant: documents whose content changed (to embed) and chunk ids that no longer exist (vectors to drop). */
  embed: { tenantId: string; documentIds: string[]; staleChunkIds: string[]; caseVersions: string[] }[];
}

type Tx = Prisma.TransactionClient;

/** Decides each claimed case's plan while its row is locked; keep it quick (the locks are held meanwhile). */
export type CaseSyncPrepare = (cases: PendingCase[]) => CaseSyncPlan[] | Promise<CaseSyncPlan[]>;

/** The body of CaseRepository.syncBatch, inside its transaction. */
export async function syncCaseBatch(tx: Tx, opts: { limit: number; runId: string }, prepare: CaseSyncPrepare): Promise<CaseSyncBatch> {
  // Ordered like cases_pending_idx, so the claim walks the (small) partial index.
  const claimed = await tx.$queryRaw<PendingCase[]>`
    SELECT id::text, tenant_id::text AS "tenantId", knowledge_base_id::text AS "knowledgeBaseId", external_id AS "externalId",
           subject, description, resolution, status, priority, product, channel, version, document_id::text AS "documentId"
    FROM cases
    WHERE synced_version < version
    ORDER BY tenant_id, updated_at, id
    LIMIT ${opts.limit}
    FOR UPDATE SKIP LOCKED`;
  if (claimed.length === 0) return { claimed: 0, processed: [], alreadyProcessed: 0, embed: [] };

  const logged = await tx.$queryRaw<{ caseId: string }[]>`
    INSERT INTO case_sync_log (case_id, version, run_id)
    SELECT t.case_id, t.version, ${opts.runId} FROM unnest(${claimed.map((c) => c.id)}::uuid[], ${claimed.map((c) => c.version)}::int[]) AS t(case_id, version)
    ON CONFLICT (case_id, version) DO NOTHING
    RETURNING case_id::text AS "caseId"`;
  const fresh = new Set(logged.map((l) => l.caseId));
  const already = claimed.filter((c) => !fresh.has(c.id));
  if (already.length > 0) {
    // Logged before (e.g. synced_version reset by hand): never processed twice, but no longer pending either.
    await tx.$executeRaw`
      UPDATE cases AS c SET synced_version = t.version, synced_at = now()
      FROM unnest(${already.map((c) => c.id)}::uuid[], ${already.map((c) => c.version)}::int[]) AS t(id, version) WHERE c.id = t.id`;
  }
  const cases = claimed.filter((c) => fresh.has(c.id));
  if (cases.length === 0) return { claimed: claimed.length, processed: [], alreadyProcessed: already.length, embed: [] };

  const plans = new Map((await prepare(cases)).map((p) => [p.caseId, p]));
  const work = cases.map((c) => {
    const plan = plans.get(c.id);
    if (!plan) throw new Error(`case sync: no plan for case ${c.id}`);
    return { c, plan };
  });

  const existing = await tx.$queryRaw<{ id: string; knowledgeBaseId: string; url: string; contentHash: string; status: string }[]>`
    SELECT d.id::text, d.knowledge_base_id::text AS "knowledgeBaseId", d.url, d.content_hash AS "contentHash", d.status
    FROM documents d
    JOIN unnest(${work.map((w) => w.c.knowledgeBaseId)}::uuid[], ${work.map((w) => w.plan.document.url)}::text[]) AS t(kb, url)
      ON d.knowledge_base_id = t.kb AND d.url = t.url`;
  const existingByKey = new Map(existing.map((d) => [`${d.knowledgeBaseId} ${d.url}`, d]));
  const docs = work.map(({ c, plan }) => {
    const found = existingByKey.get(`${c.knowledgeBaseId} ${plan.document.url}`);
    // Same text, already indexed: only the metadata (status, category) is written; nothing is embedded again.
    const changed = !found || found.contentHash !== plan.document.contentHash || found.status !== 'indexed';
    return { c, plan, id: found?.id ?? randomUUID(), changed };
  });

  // documents' timestamps are `timestamp` columns holding UTC, as Prisma writes them.
  await tx.$executeRaw`
    INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, metadata, status, fetched_at, created_at, updated_at)
    SELECT t.id, t.tenant_id, t.kb, 'case', 'cases', t.url, t.title, t.markdown, t.hash, t.metadata::jsonb, t.status, timezone('UTC', now()), timezone('UTC', now()), timezone('UTC', now())
    FROM unnest(${docs.map((d) => d.id)}::uuid[], ${docs.map((d) => d.c.tenantId)}::uuid[], ${docs.map((d) => d.c.knowledgeBaseId)}::uuid[],
                ${docs.map((d) => d.plan.document.url)}::text[], ${docs.map((d) => d.plan.document.title)}::text[],
                ${docs.map((d) => d.plan.document.markdown)}::text[], ${docs.map((d) => d.plan.document.contentHash)}::text[],
                ${docs.map((d) => JSON.stringify(d.plan.document.metadata))}::text[], ${docs.map((d) => (d.changed ? 'indexing' : 'indexed'))}::text[])
      AS t(id, tenant_id, kb, url, title, markdown, hash, metadata, status)
    ON CONFLICT (knowledge_base_id, url) DO UPDATE SET
      title = EXCLUDED.title, markdown = EXCLUDED.markdown, content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata,
      status = EXCLUDED.status, content_type = 'case', source = 'cases', fetched_at = EXCLUDED.fetched_at, updated_at = EXCLUDED.updated_at`;

  const changed = docs.filter((d) => d.changed);
  const chunkRows = changed.flatMap((d) =>
    d.plan.document.chunks.map((ch) => ({ ...ch, id: deterministicUuid(d.id, ch.position, ch.hash), documentId: d.id, tenantId: d.c.tenantId })),
  );
  const stale = await tx.$queryRaw<{ id: string; tenantId: string }[]>`
    DELETE FROM chunks WHERE document_id = ANY(${changed.map((d) => d.id)}::uuid[]) AND NOT (id = ANY(${chunkRows.map((r) => r.id)}::uuid[]))
    RETURNING id::text, tenant_id::text AS "tenantId"`;
  await tx.$executeRaw`
    INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
    SELECT * FROM unnest(${chunkRows.map((r) => r.id)}::uuid[], ${chunkRows.map((r) => r.tenantId)}::uuid[], ${chunkRows.map((r) => r.documentId)}::uuid[],
                         ${chunkRows.map((r) => r.position)}::int[], ${chunkRows.map((r) => r.heading)}::text[], ${chunkRows.map((r) => r.text)}::text[],
                         ${chunkRows.map((r) => r.hash)}::text[])
    ON CONFLICT (id) DO NOTHING`;

  // A case whose document key changed (new external id or knowledge base) leaves its old document behind: remove it.
  const moved = docs.filter((d) => d.c.documentId !== null && d.c.documentId !== d.id).map((d) => d.c.documentId!);
  if (moved.length > 0) {
    stale.push(
      ...(await tx.$queryRaw<{ id: string; tenantId: string }[]>`
        SELECT id::text, tenant_id::text AS "tenantId" FROM chunks WHERE document_id = ANY(${moved}::uuid[])`),
    );
    await tx.$executeRaw`DELETE FROM documents WHERE id = ANY(${moved}::uuid[])`;
  }

  await tx.$executeRaw`
    UPDATE cases AS c SET category = t.category, complete = t.complete, missing_fields = string_to_array(t.missing, ','),
      synced_version = t.version, synced_at = now(), document_id = t.doc
    FROM unnest(${docs.map((d) => d.c.id)}::uuid[], ${docs.map((d) => d.c.version)}::int[], ${docs.map((d) => d.plan.category)}::text[],
                ${docs.map((d) => d.plan.complete)}::bool[], ${docs.map((d) => d.plan.missingFields.join(','))}::text[], ${docs.map((d) => d.id)}::uuid[])
      AS t(id, version, category, complete, missing, doc)
    WHERE c.id = t.id`;

  const tenants = new Set([...changed.map((d) => d.c.tenantId), ...stale.map((s) => s.tenantId)]);
  const embed = [...tenants].map((tenantId) => ({
    tenantId,
    documentIds: changed.filter((d) => d.c.tenantId === tenantId).map((d) => d.id),
    staleChunkIds: stale.filter((s) => s.tenantId === tenantId).map((s) => s.id),
    caseVersions: docs.filter((d) => d.c.tenantId === tenantId).map((d) => `${d.c.id}:${d.c.version}`),
  }));
  return {
    claimed: claimed.length,
    processed: docs.map((d) => ({ caseId: d.c.id, tenantId: d.c.tenantId, version: d.c.version, category: d.plan.category, complete: d.plan.complete })),
    alreadyProcessed: already.length,
    embed,
  };
}
