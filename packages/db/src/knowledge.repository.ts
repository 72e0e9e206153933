import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import type { ChunkInput } from './document.repository.ts';
import type { Prisma } from './generated/client.ts';
import { deterministicUuid } from './ids.ts';

export type ArticleStatus = 'active' | 'retired';
export type ArticleAuthor = 'llm' | 'extractive' | 'manual';

/** A case as pattern detection and the article writers read it. */
export interface KnowledgeCase {
  id: string;
  externalId: string;
  subject: string;
  description: string;
  resolution: string;
  category: string | null;
  version: number;
  createdAt: Date;
}

/** A generated article as regeneration compares it. */
export interface GeneratedArticleState {
  id: string;
  patternKey: string;
  status: string;
  sourceFingerprint: string;
  documentId: string | null;
  /** The article's document is indexed (its vectors are in the store). */
  documentIndexed: boolean;
  documentContentHash: string | null;
  caseIds: string[];
}

export interface KnowledgeArticleView {
  id: string;
  knowledgeBaseId: string;
  patternKey: string;
  category: string;
  title: string;
  summary: string;
  symptoms: string[];
  resolutionSteps: string[];
  body: string;
  generatedBy: string;
  status: string;
  sourceFingerprint: string;
  documentId: string | null;
  caseCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface LinkedCaseView {
  caseId: string;
  externalId: string;
  subject: string;
  similarity: number;
  /** The version the article was written from. */
  caseVersion: number;
  /** The case's version now (higher: changed since, the next generation rewrites the article). */
  currentVersion: number;
}

/** What {@link KnowledgeRepository.writeArticle} writes. */
export interface ArticleWrite {
  articleId: string;
  /** `create` inserts (the unique pattern key refuses a duplicate); `update` changes a row of this tenant. */
  mode: 'create' | 'update';
  tenantId: string;
  knowledgeBaseId: string;
  patternKey: string;
  category: string;
  title: string;
  summary: string;
  symptoms: string[];
  resolutionSteps: string[];
  body: string;
  generatedBy: ArticleAuthor;
  sourceFingerprint: string;
  status: ArticleStatus;
  /** The provenance rows; undefined keeps the existing ones. */
  links?: { caseId: string; caseVersion: number; similarity: number }[];
  /** The article's document (contentType `article`); undefined writes none (a retired article has none). */
  document?: { contentHash: string; chunks: ChunkInput[] };
}

export interface ArticleWriteResult {
  articleId: string;
  documentId: string | null;
  /** The document's text, title or summary changed: its chunks need (new) vectors. */
  documentChanged: boolean;
  /** Chunks the new version dropped: their vectors must go. */
  staleChunkIds: string[];
}

/** The document key of an article. */
export function articleUrl(articleId: string): string {
  return `article://${articleId}`;
}

type ArticleRow = Prisma.KnowledgeArticleGetPayload<{ include: { _count: { select: { cases: true } } } }>;

function toView(row: ArticleRow): KnowledgeArticleView {
  const { _count, tenantId: _tenant, ...rest } = row;
  return { ...rest, caseCount: _count.cases };
}

/**
 * Knowledge articles, their provenance (which case versions they came from)
 * and their documents. Every method is scoped to a tenant or a knowledge
 * base the caller resolved for one.
 */
export class KnowledgeRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Knowledge bases with cases or with active generated articles (whose cases may all be gone). */
  async knowledgeBasesToGenerate(filter: { tenantId?: string; knowledgeBaseId?: string }): Promise<{ tenantId: string; knowledgeBaseId: string }[]> {
    const tenant = filter.tenantId ?? null;
    const kb = filter.knowledgeBaseId ?? null;
    return this.db.$queryRaw<{ tenantId: string; knowledgeBaseId: string }[]>`
      SELECT tenant_id::text AS "tenantId", knowledge_base_id::text AS "knowledgeBaseId" FROM cases
      WHERE (${tenant}::uuid IS NULL OR tenant_id = ${tenant}::uuid) AND (${kb}::uuid IS NULL OR knowledge_base_id = ${kb}::uuid)
      UNION
      SELECT tenant_id::text, knowledge_base_id::text FROM knowledge_articles
      WHERE generated_by <> 'manual' AND status = 'active'
        AND (${tenant}::uuid IS NULL OR tenant_id = ${tenant}::uuid) AND (${kb}::uuid IS NULL OR knowledge_base_id = ${kb}::uuid)
      ORDER BY 1, 2`;
  }

  /**
   * Runs `fn` while holding a PostgreSQL advisory lock on the knowledge
   * base's article generation, so two runs at once take turns instead of
   * writing the same patterns. The lock lives in a transaction of its own
   * that does nothing else (`fn` works through other connections and
   * commits as it goes); it is released when `fn` settles, or by PostgreSQL
   * when this process dies. Waiting for the lock is bounded by `timeoutMs`,
   * and so is holding it (the transaction's timeout).
   */
  async withGenerationLock<T>(knowledgeBaseId: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`kbflow:knowledge:${knowledgeBaseId}`}, 0))::text`;
        return fn();
      },
      { maxWait: TRANSACTION_OPTIONS.maxWait, timeout: timeoutMs * 2 },
    );
  }

  /** The knowledge base's cases with what pattern detection and the writers need. */
  async casesOf(knowledgeBaseId: string): Promise<KnowledgeCase[]> {
    return this.db.case.findMany({
      where: { knowledgeBaseId },
      select: { id: true, externalId: true, subject: true, description: true, resolution: true, category: true, version: true, createdAt: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** The generated (not manual) articles of a knowledge base, active and retired, with their cases. */
  async generatedArticles(knowledgeBaseId: string): Promise<GeneratedArticleState[]> {
    const rows = await this.db.knowledgeArticle.findMany({
      where: { knowledgeBaseId, generatedBy: { not: 'manual' } },
      select: { id: true, patternKey: true, status: true, sourceFingerprint: true, documentId: true, cases: { select: { caseId: true } } },
      orderBy: { id: 'asc' },
    });
    const docIds = rows.flatMap((r) => (r.documentId ? [r.documentId] : []));
    const docs = await this.db.document.findMany({ where: { id: { in: docIds } }, select: { id: true, status: true, contentHash: true } });
    const docById = new Map(docs.map((d) => [d.id, d]));
    return rows.map((r) => {
      const doc = r.documentId ? docById.get(r.documentId) : undefined;
      return {
        id: r.id,
        patternKey: r.patternKey,
        status: r.status,
        sourceFingerprint: r.sourceFingerprint,
        documentId: doc ? doc.id : null,
        documentIndexed: doc?.status === 'indexed',
        documentContentHash: doc?.contentHash ?? null,
        caseIds: r.cases.map((c) => c.caseId),
      };
    });
  }

  /**
   * Creates or updates an article with its provenance and its document in
   * one transaction: nothing is half-written. The document's chunk ids
   * derive from document, position and text, like every other document's.
   * When the document's content hash is unchanged and it is indexed, its
   * chunks are left alone; otherwise every chunk is marked unindexed,
   * because article vectors mix in the title and summary.
   */
  async writeArticle(input: ArticleWrite): Promise<ArticleWriteResult> {
    return this.db.$transaction(async (tx) => {
      const fields = {
        patternKey: input.patternKey,
        category: input.category,
        title: input.title,
        summary: input.summary,
        symptoms: input.symptoms,
        resolutionSteps: input.resolutionSteps,
        body: input.body,
        generatedBy: input.generatedBy,
        sourceFingerprint: input.sourceFingerprint,
        status: input.status,
      };
      if (input.mode === 'create') {
        await tx.knowledgeArticle.create({ data: { id: input.articleId, tenantId: input.tenantId, knowledgeBaseId: input.knowledgeBaseId, ...fields } });
      } else {
        const updated = await tx.knowledgeArticle.updateMany({ where: { id: input.articleId, tenantId: input.tenantId }, data: fields });
        if (updated.count === 0) throw new Error(`knowledge article ${input.articleId} not found`);
      }
      if (input.links) {
        await tx.knowledgeArticleCase.deleteMany({ where: { articleId: input.articleId } });
        await tx.knowledgeArticleCase.createMany({ data: input.links.map((l) => ({ articleId: input.articleId, ...l })) });
      }
      if (!input.document) return { articleId: input.articleId, documentId: null, documentChanged: false, staleChunkIds: [] };

      const url = articleUrl(input.articleId);
      const existing = await tx.document.findUnique({
        where: { knowledgeBaseId_url: { knowledgeBaseId: input.knowledgeBaseId, url } },
        select: { id: true, contentHash: true, status: true },
      });
      if (existing && existing.contentHash === input.document.contentHash && existing.status === 'indexed') {
        await tx.knowledgeArticle.update({ where: { id: input.articleId }, data: { documentId: existing.id } });
        return { articleId: input.articleId, documentId: existing.id, documentChanged: false, staleChunkIds: [] };
      }
      const docFields = {
        title: input.title,
        markdown: input.body,
        contentHash: input.document.contentHash,
        metadata: { summary: input.summary, articleId: input.articleId, category: input.category } as Prisma.InputJsonValue,
        status: 'indexing',
        fetchedAt: new Date(),
      };
      const doc = await tx.document.upsert({
        where: { knowledgeBaseId_url: { knowledgeBaseId: input.knowledgeBaseId, url } },
        create: { tenantId: input.tenantId, knowledgeBaseId: input.knowledgeBaseId, url, contentType: 'article', source: 'knowledge', ...docFields },
        update: docFields,
        select: { id: true },
      });
      const rows = input.document.chunks.map((c) => ({
        id: deterministicUuid(doc.id, c.position, c.hash),
        tenantId: input.tenantId,
        documentId: doc.id,
        position: c.position,
        heading: c.heading,
        text: c.text,
        hash: c.hash,
      }));
      const ids = new Set(rows.map((r) => r.id));
      const before = await tx.chunk.findMany({ where: { documentId: doc.id }, select: { id: true } });
      const staleChunkIds = before.map((c) => c.id).filter((id) => !ids.has(id));
      await tx.chunk.deleteMany({ where: { documentId: doc.id, id: { in: staleChunkIds } } });
      await tx.chunk.createMany({ data: rows, skipDuplicates: true });
      await tx.indexedChunk.deleteMany({ where: { chunk: { documentId: doc.id } } });
      await tx.knowledgeArticle.update({ where: { id: input.articleId }, data: { documentId: doc.id } });
      return { articleId: input.articleId, documentId: doc.id, documentChanged: true, staleChunkIds };
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Retires articles whose pattern is gone: status `retired`, provenance
   * kept, document and chunks deleted. Returns what the caller must remove
   * from the vector store.
   */
  async retire(knowledgeBaseId: string, articleIds: string[]): Promise<{ documentIds: string[]; chunkIds: string[] }> {
    if (articleIds.length === 0) return { documentIds: [], chunkIds: [] };
    return this.db.$transaction(async (tx) => {
      const urls = articleIds.map(articleUrl);
      const docs = await tx.document.findMany({ where: { knowledgeBaseId, url: { in: urls } }, select: { id: true } });
      const documentIds = docs.map((d) => d.id);
      const chunks = await tx.chunk.findMany({ where: { documentId: { in: documentIds } }, select: { id: true } });
      await tx.knowledgeArticle.updateMany({ where: { knowledgeBaseId, id: { in: articleIds } }, data: { status: 'retired', documentId: null } });
      await tx.document.deleteMany({ where: { id: { in: documentIds } } });
      return { documentIds, chunkIds: chunks.map((c) => c.id) };
    }, TRANSACTION_OPTIONS);
  }

  /** A tenant's articles, newest first, with the total for paging. */
  async list(
    tenantId: string,
    filter: { knowledgeBaseId?: string; status?: string; category?: string; limit: number; offset: number },
  ): Promise<{ total: number; articles: KnowledgeArticleView[] }> {
    const where: Prisma.KnowledgeArticleWhereInput = {
      tenantId,
      ...(filter.knowledgeBaseId ? { knowledgeBaseId: filter.knowledgeBaseId } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.category ? { category: filter.category } : {}),
    };
    const [total, rows] = await Promise.all([
      this.db.knowledgeArticle.count({ where }),
      this.db.knowledgeArticle.findMany({
        where,
        include: { _count: { select: { cases: true } } },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take: filter.limit,
        skip: filter.offset,
      }),
    ]);
    return { total, articles: rows.map(toView) };
  }

  /** One article of a tenant. */
  async get(tenantId: string, id: string): Promise<KnowledgeArticleView | undefined> {
    const row = await this.db.knowledgeArticle.findFirst({ where: { id, tenantId }, include: { _count: { select: { cases: true } } } });
    return row ? toView(row) : undefined;
  }

  /** The cases an article was written from, most similar first. */
  async linkedCases(articleId: string): Promise<LinkedCaseView[]> {
    const rows = await this.db.knowledgeArticleCase.findMany({
      where: { articleId },
      select: { caseId: true, caseVersion: true, similarity: true, case: { select: { externalId: true, subject: true, version: true } } },
      orderBy: [{ similarity: 'desc' }, { caseId: 'asc' }],
    });
    return rows.map((r) => ({
      caseId: r.caseId,
      externalId: r.case.externalId,
      subject: r.case.subject,
      similarity: r.similarity,
      caseVersion: r.caseVersion,
      currentVersion: r.case.version,
    }));
  }

  /** Deletes an article with its provenance and document; returns the vectors to remove, or undefined for no such article. */
  async delete(tenantId: string, id: string): Promise<{ documentIds: string[]; chunkIds: string[] } | undefined> {
    return this.db.$transaction(async (tx) => {
      const article = await tx.knowledgeArticle.findFirst({ where: { id, tenantId }, select: { knowledgeBaseId: true } });
      if (!article) return undefined;
      const docs = await tx.document.findMany({ where: { knowledgeBaseId: article.knowledgeBaseId, url: articleUrl(id) }, select: { id: true } });
      const documentIds = docs.map((d) => d.id);
      const chunks = await tx.chunk.findMany({ where: { documentId: { in: documentIds } }, select: { id: true } });
      await tx.document.deleteMany({ where: { id: { in: documentIds } } });
      await tx.knowledgeArticle.delete({ where: { id } });
      return { documentIds, chunkIds: chunks.map((c) => c.id) };
    }, TRANSACTION_OPTIONS);
  }
}
