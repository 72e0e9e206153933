import { randomUUID } from 'node:crypto';
import type { KnowledgeArticleView, KnowledgeRepository, LinkedCaseView, TenantRepository } from '@kbflow/db';
import { articleDocument, renderArticleMarkdown } from '@kbflow/extraction';
import { Priority, QueueName, type JobProducer } from '@kbflow/queues';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError, parseBody } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { article, articlesPage } from './responses.ts';
import { storable } from '../domain/storable-text.ts';

export interface KnowledgeRouteDeps {
  tenants: TenantRepository;
  knowledge: KnowledgeRepository;
  producer: JobProducer;
  log: Logger;
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _');
const title = z.string().trim().min(1, 'must not be empty').max(200);
const summary = z.string().trim().min(1, 'must not be empty').max(2000);
const lines = (max: number) => z.array(z.string().trim().min(1, 'must not be empty').max(max)).max(50);
const body = z.string().trim().min(1, 'must not be empty').max(200_000);

const createBody = z.strictObject({
  title,
  summary,
  symptoms: lines(500).default([]),
  resolutionSteps: lines(1000).default([]),
  /** Markdown; rendered from the other fields when absent. */
  body: body.optional(),
  category: slug.default('other'),
  knowledgeBase: slug.default('default'),
});

const patchBody = z
  .strictObject({
    title: title.optional(),
    summary: summary.optional(),
    symptoms: lines(500).optional(),
    resolutionSteps: lines(1000).optional(),
    body: body.optional(),
    category: slug.optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'give at least one field to change' });

const listQuery = z.strictObject({
  status: z.enum(['active', 'retired']).optional(),
  category: slug.optional(),
  knowledgeBase: slug.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const articleId = z.uuid({ message: 'must be a knowledge article id (UUID)' });

function articleJson(a: KnowledgeArticleView, opts: { body: boolean }) {
  return {
    id: a.id,
    category: a.category,
    title: a.title,
    summary: a.summary,
    symptoms: a.symptoms,
    resolutionSteps: a.resolutionSteps,
    ...(opts.body ? { body: a.body } : {}),
    generatedBy: a.generatedBy,
    status: a.status,
    patternKey: a.patternKey,
    caseCount: a.caseCount,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

function linkedJson(c: LinkedCaseView) {
  return {
    caseId: c.caseId,
    externalId: c.externalId,
    subject: c.subject,
    similarity: c.similarity,
    caseVersion: c.caseVersion,
    currentVersion: c.currentVersion,
  };
}

/**
 * `/v1/knowledge`: the articles written from recurring case patterns, and
 * manual ones. Reads are the tenant's; a manual article (POST) is stored and
 * vectorized like a generated one (document `article://<id>`, title 3x,
 * summary 2x, chunk 1x); PATCH rewrites it and DELETE removes it with its
 * vectors. A generated article is rewritten by the next generation when its
 * cases change, and a deleted one comes back while its pattern lasts.
 */
export function knowledgeRoutes(deps: KnowledgeRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  const idParam = z.object({ id: z.string().describe('knowledge article id (UUID)') });
  const notFound = { 404: ['knowledge_article_not_found'] };

  const load = async (req: Request) => {
    const id = parseBody(z.strictObject({ id: articleId }), { id: req.params.id }).id;
    const article = await deps.knowledge.get(req.principal!.tenantId, id);
    if (!article) throw new ApiError(404, 'knowledge_article_not_found', `no knowledge article ${id}`);
    return article;
  };

  /** Queues the (weighted) embedding of an article's new document version; its job id absorbs repeats. */
  const embed = (tenantId: string, documentId: string, contentHash: string, staleChunkIds: string[], correlationId: string) =>
    deps.producer.enqueue(
      QueueName.embed,
      'embed-documents',
      { tenantId, documentIds: [documentId], staleChunkIds, weighting: 'article', correlationId },
      { priority: Priority.NORMAL, jobId: `article-${documentId}-${contentHash.slice(0, 16)}` },
    );

  router.get(
    '/knowledge',
    {
      operationId: 'listKnowledge',
      summary: 'List knowledge articles',
      tags: ['knowledge'],
      query: listQuery,
      responses: { 200: { description: 'one page of articles (without their bodies)', schema: articlesPage } },
      errors: { 404: ['knowledge_base_not_found'] },
      example: { query: { limit: '5' } },
    },
    async (req, res, input) => {
      const q = input.query();
      const tenantId = req.principal!.tenantId;
      let knowledgeBaseId: string | undefined;
      if (q.knowledgeBase !== undefined) {
        knowledgeBaseId = await deps.tenants.findKnowledgeBaseId(tenantId, q.knowledgeBase);
        if (!knowledgeBaseId) throw new ApiError(404, 'knowledge_base_not_found', `no knowledge base ${q.knowledgeBase}`, { field: 'knowledgeBase' });
      }
      const page = await deps.knowledge.list(tenantId, { knowledgeBaseId, status: q.status, category: q.category, limit: q.limit, offset: q.offset });
      res.json({ total: page.total, limit: q.limit, offset: q.offset, articles: page.articles.map((a) => articleJson(a, { body: false })) });
    },
  );

  router.get(
    '/knowledge/:id',
    {
      operationId: 'getKnowledge',
      summary: 'One knowledge article with its linked cases',
      tags: ['knowledge'],
      params: idParam,
      responses: { 200: { description: 'the article', schema: article } },
      errors: notFound,
      example: { params: { id: '{articleId}' } },
    },
    async (req, res) => {
      const article = await load(req);
      const linkedCases = await deps.knowledge.linkedCases(article.id);
      res.json({ ...articleJson(article, { body: true }), linkedCases: linkedCases.map(linkedJson) });
    },
  );

  router.post(
    '/knowledge',
    {
      operationId: 'createKnowledge',
      summary: 'Write a knowledge article by hand',
      tags: ['knowledge'],
      body: createBody,
      responses: { 201: { description: 'the article, queued for indexing', schema: article } },
      errors: { 503: ['queue_unavailable'] },
      example: {
        body: {
          title: 'Resetting a password',
          summary: 'How to reset a forgotten password.',
          resolutionSteps: ['Open the account page', 'Choose Reset password'],
        },
      },
    },
    async (req, res) => {
      // NUL bytes and lone surrogates are cleaned as in cases: PostgreSQL and Prisma refuse them.
      const input = parseBody(createBody, storable(req.body));
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, input.knowledgeBase);
      const id = randomUUID();
      const fields = { title: input.title, summary: input.summary, symptoms: input.symptoms, resolutionSteps: input.resolutionSteps };
      const markdown = input.body ?? renderArticleMarkdown(fields, []);
      const doc = articleDocument({ title: input.title, summary: input.summary, body: markdown });
      const saved = await deps.knowledge.writeArticle({
        articleId: id,
        mode: 'create',
        tenantId,
        knowledgeBaseId,
        patternKey: `manual:${id}`,
        category: input.category,
        ...fields,
        body: markdown,
        generatedBy: 'manual',
        sourceFingerprint: doc.contentHash,
        status: 'active',
        links: [],
        document: { contentHash: doc.contentHash, chunks: doc.chunks },
      });
      try {
        await embed(tenantId, saved.documentId!, doc.contentHash, [], id);
      } catch (error) {
        // Nothing half-written: without its embedding job the article goes again.
        await deps.knowledge.delete(tenantId, id);
        deps.log.error({ err: error, articleId: id }, 'could not queue the article embedding');
        throw new ApiError(503, 'queue_unavailable', 'the article could not be queued for indexing; try again', { headers: { 'Retry-After': '5' } });
      }
      res.status(201).json({ ...articleJson((await deps.knowledge.get(tenantId, id))!, { body: true }), linkedCases: [] });
    },
  );

  router.patch(
    '/knowledge/:id',
    {
      operationId: 'updateKnowledge',
      summary: 'Change a knowledge article',
      tags: ['knowledge'],
      params: idParam,
      body: patchBody,
      responses: { 200: { description: 'the changed article', schema: article } },
      errors: notFound,
      example: { params: { id: '{articleId}' }, body: { summary: 'How to reset a forgotten password, step by step.' } },
    },
    async (req, res) => {
      const patch = parseBody(patchBody, storable(req.body));
      const current = await load(req);
      const tenantId = req.principal!.tenantId;
      const linked = await deps.knowledge.linkedCases(current.id);
      const lines = linked.map((c) => ({ externalId: c.externalId, subject: c.subject }));
      const next = {
        title: patch.title ?? current.title,
        summary: patch.summary ?? current.summary,
        symptoms: patch.symptoms ?? current.symptoms,
        resolutionSteps: patch.resolutionSteps ?? current.resolutionSteps,
      };
      // A body that was rendered from the fields follows them; a body written by hand stays unless replaced.
      const rendered = current.body === renderArticleMarkdown(current, lines);
      const markdown = patch.body ?? (rendered ? renderArticleMarkdown(next, lines) : current.body);
      const doc = articleDocument({ title: next.title, summary: next.summary, body: markdown });
      const saved = await deps.knowledge.writeArticle({
        articleId: current.id,
        mode: 'update',
        tenantId,
        knowledgeBaseId: current.knowledgeBaseId,
        patternKey: current.patternKey,
        category: patch.category ?? current.category,
        ...next,
        body: markdown,
        generatedBy: current.generatedBy as 'llm' | 'extractive' | 'manual',
        // A generated article keeps the fingerprint of its cases: it is rewritten when they change, not before.
        sourceFingerprint: current.generatedBy === 'manual' ? doc.contentHash : current.sourceFingerprint,
        status: current.status as 'active' | 'retired',
        // A retired article has no document, and an edit does not bring one back.
        ...(current.status === 'active' ? { document: { contentHash: doc.contentHash, chunks: doc.chunks } } : {}),
      });
      if (saved.documentChanged && saved.documentId) {
        // The edit is committed; if the job cannot be queued, the vectorization sweep embeds the document later.
        await embed(tenantId, saved.documentId, doc.contentHash, saved.staleChunkIds, current.id).catch((error: unknown) =>
          deps.log.warn({ err: error, articleId: current.id }, 'could not queue the article embedding; the sweep will'),
        );
      }
      const linkedNow = await deps.knowledge.linkedCases(current.id);
      res.json({ ...articleJson((await deps.knowledge.get(tenantId, current.id))!, { body: true }), linkedCases: linkedNow.map(linkedJson) });
    },
  );

  router.delete(
    '/knowledge/:id',
    {
      operationId: 'deleteKnowledge',
      summary: 'Delete a knowledge article and its vectors',
      tags: ['knowledge'],
      params: idParam,
      responses: { 204: { description: 'the article is gone' } },
      errors: notFound,
      example: { params: { id: '{articleId}' } },
    },
    async (req, res) => {
      const article = await load(req);
      const tenantId = req.principal!.tenantId;
      const removed = await deps.knowledge.delete(tenantId, article.id);
      if (!removed) throw new ApiError(404, 'knowledge_article_not_found', `no knowledge article ${article.id}`);
      if (removed.documentIds.length > 0) {
        // Deleted rows are gone; if this job cannot be queued, the sweep deletes vectors without a row.
        await deps.producer
          .enqueue(
            QueueName.embed,
            'delete-vectors',
            { tenantId, documentIds: removed.documentIds, chunkIds: removed.chunkIds, correlationId: article.id },
            { priority: Priority.NORMAL },
          )
          .catch((error: unknown) => deps.log.warn({ err: error, articleId: article.id }, 'could not queue the vector deletion; the sweep will'));
      }
      res.status(204).end();
    },
  );

  return router;
}
