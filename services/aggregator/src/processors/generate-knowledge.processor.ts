import { randomUUID } from 'node:crypto';
import type { KnowledgeCase, KnowledgeRepository } from '@kbflow/db';
import type { ChatModel, Embedder } from '@kbflow/embeddings';
import { articleDocument, renderArticleMarkdown } from '@kbflow/extraction';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import type { ArticleSourceCase } from '../domain/extractive-article.ts';
import { detectPatterns } from '../domain/knowledge-patterns.ts';
import { writeArticle } from '../domain/llm-article.ts';
import { planArticles, sourceFingerprint, type PlannedArticle } from '../domain/pattern-identity.ts';

/** Catalog limits of `embed/delete-vectors`. */
const MAX_DOCUMENTS_PER_JOB = 1000;
const MAX_CHUNK_IDS_PER_JOB = 20_000;

export interface GenerateKnowledgeDeps {
  knowledge: KnowledgeRepository;
  producer: Pick<JobProducer, 'enqueue'>;
  embedder: Embedder;
  /** Writes the articles when configured; extractive otherwise. */
  chat?: ChatModel;
  /** KBFLOW_KNOWLEDGE_MIN_CASES */
  minCases: number;
  /** KBFLOW_KNOWLEDGE_SIMILARITY */
  similarity: number;
  /** KBFLOW_KNOWLEDGE_TIMEOUT_MS: how long to wait for, and then hold, a knowledge base's generation lock. */
  lockTimeoutMs: number;
}

/** What one knowledge base's generation did. */
interface KnowledgeBaseGeneration {
  tenantId: string;
  knowledgeBaseId: string;
  cases: number;
  /** Cases case sync has not categorized yet (left for the next run). */
  skippedUncategorized: number;
  patterns: number;
  created: number;
  updated: number;
  unchanged: number;
  retired: number;
  /** Articles written by the LLM, and those that fell back to extractive after an LLM failure. */
  byLlm: number;
  llmFallbacks: number;
  durationMs: number;
}

export interface GenerateKnowledgeResult {
  knowledgeBases: KnowledgeBaseGeneration[];
  created: number;
  updated: number;
  unchanged: number;
  retired: number;
}

/**
 * `aggregate/generate-knowledge`: for each knowledge base with cases (or the
 * one named), finds the recurring patterns and writes one article per
 * pattern. An article is (re)written only when its fingerprint (its cases
 * and their versions) changed or it comes back from retirement, so a run
 * over unchanged cases writes nothing; its document is then re-embedded
 * with article weighting at LOW priority. Articles whose pattern is gone
 * are retired and their vectors removed. Knowledge bases are processed one
 * at a time, each under its advisory lock: a concurrent run waits and then
 * finds nothing left to do.
 */
export async function generateKnowledge(
  data: JobData<'aggregate', 'generate-knowledge'>,
  ctx: JobContext,
  deps: GenerateKnowledgeDeps,
): Promise<GenerateKnowledgeResult> {
  const targets = await deps.knowledge.knowledgeBasesToGenerate({ tenantId: data.tenantId, knowledgeBaseId: data.knowledgeBaseId });
  const knowledgeBases: KnowledgeBaseGeneration[] = [];
  for (const target of targets) {
    const started = performance.now();
    const result = await deps.knowledge.withGenerationLock(target.knowledgeBaseId, deps.lockTimeoutMs, () => generateFor(target, ctx, deps));
    result.durationMs = Math.round(performance.now() - started);
    ctx.log.info(result, 'knowledge generated');
    knowledgeBases.push(result);
  }
  const sum = (key: 'created' | 'updated' | 'unchanged' | 'retired') => knowledgeBases.reduce((n, kb) => n + kb[key], 0);
  return { knowledgeBases, created: sum('created'), updated: sum('updated'), unchanged: sum('unchanged'), retired: sum('retired') };
}

async function generateFor(
  target: { tenantId: string; knowledgeBaseId: string },
  ctx: JobContext,
  deps: GenerateKnowledgeDeps,
): Promise<KnowledgeBaseGeneration> {
  const { tenantId, knowledgeBaseId } = target;
  const cases = await deps.knowledge.casesOf(knowledgeBaseId);
  const detection = await detectPatterns(cases, deps.embedder, { tenantId, minCases: deps.minCases, similarity: deps.similarity });
  const existing = await deps.knowledge.generatedArticles(knowledgeBaseId);
  const plan = planArticles(detection.patterns, existing);
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const existingById = new Map(existing.map((a) => [a.id, a]));
  const out: KnowledgeBaseGeneration = {
    tenantId,
    knowledgeBaseId,
    cases: cases.length,
    skippedUncategorized: detection.skippedUncategorized,
    patterns: plan.articles.length,
    created: 0,
    updated: 0,
    unchanged: 0,
    retired: 0,
    byLlm: 0,
    llmFallbacks: 0,
    durationMs: 0,
  };

  for (const planned of plan.articles) {
    const links = planned.pattern.members.map((m) => ({
      caseId: m.caseId,
      caseVersion: caseById.get(m.caseId)!.version,
      similarity: Math.round(m.similarity * 1e4) / 1e4,
    }));
    const fingerprint = sourceFingerprint(links.map((l) => ({ caseId: l.caseId, version: l.caseVersion })));
    const current = planned.articleId === undefined ? undefined : existingById.get(planned.articleId);
    if (current && current.sourceFingerprint === fingerprint && current.status === 'active' && current.documentId !== null) {
      out.unchanged++;
      // An earlier run wrote it but its embedding was not queued or has not finished: queue it (deduplicated by job id).
      if (!current.documentIndexed) await enqueueEmbedding(deps, ctx, tenantId, current.documentId, current.documentContentHash ?? fingerprint, []);
      continue;
    }
    const sources = articleSources(planned, caseById, detection.cleanDescriptions);
    const written = await writeArticle(planned.pattern.category, sources, deps.chat);
    if (written.generatedBy === 'llm') out.byLlm++;
    if (written.fallbackReason !== undefined) {
      out.llmFallbacks++;
      ctx.log.warn({ patternKey: planned.patternKey, reason: written.fallbackReason }, 'llm article failed; wrote the extractive article');
    }
    const body = renderArticleMarkdown(
      written.draft,
      sources.map((s) => ({ externalId: s.externalId, subject: s.subject })),
    );
    const document = articleDocument({ title: written.draft.title, summary: written.draft.summary, body });
    const saved = await deps.knowledge.writeArticle({
      articleId: current?.id ?? randomUUID(),
      mode: current ? 'update' : 'create',
      tenantId,
      knowledgeBaseId,
      patternKey: planned.patternKey,
      category: planned.pattern.category,
      ...written.draft,
      body,
      generatedBy: written.generatedBy,
      sourceFingerprint: fingerprint,
      status: 'active',
      links,
      document: { contentHash: document.contentHash, chunks: document.chunks },
    });
    if (current) out.updated++;
    else out.created++;
    if (saved.documentChanged && saved.documentId !== null)
      await enqueueEmbedding(deps, ctx, tenantId, saved.documentId, document.contentHash, saved.staleChunkIds);
  }

  const removed = await deps.knowledge.retire(knowledgeBaseId, plan.retire);
  out.retired = plan.retire.length;
  // Catalog limits per job: 1,000 documents, 20,000 chunk ids. A retired article has a handful of
  // chunks, and the document ids alone remove every vector filed under them.
  for (let i = 0; i < removed.documentIds.length; i += MAX_DOCUMENTS_PER_JOB) {
    const documentIds = removed.documentIds.slice(i, i + MAX_DOCUMENTS_PER_JOB);
    const chunkIds = i === 0 ? removed.chunkIds.slice(0, MAX_CHUNK_IDS_PER_JOB) : [];
    await deps.producer.enqueue(
      QueueName.embed,
      'delete-vectors',
      { tenantId, documentIds, chunkIds, correlationId: ctx.correlationId },
      { priority: Priority.LOW },
    );
  }
  return out;
}

/** The pattern's cases as the writers read them, most representative first. */
function articleSources(planned: PlannedArticle, caseById: Map<string, KnowledgeCase>, clean: Map<string, string>): ArticleSourceCase[] {
  return planned.pattern.members.map((m) => {
    const c = caseById.get(m.caseId)!;
    return {
      caseId: c.id,
      externalId: c.externalId,
      subject: c.subject,
      description: clean.get(c.id) ?? c.description,
      resolution: c.resolution,
      similarity: m.similarity,
    };
  });
}

/** One `embed-documents` job per article version: its job id makes a repeat a no-op while the job is kept. */
async function enqueueEmbedding(
  deps: GenerateKnowledgeDeps,
  ctx: JobContext,
  tenantId: string,
  documentId: string,
  contentHash: string,
  staleChunkIds: string[],
): Promise<void> {
  await deps.producer.enqueue(
    QueueName.embed,
    'embed-documents',
    { tenantId, documentIds: [documentId], staleChunkIds, weighting: 'article', correlationId: ctx.correlationId },
    { priority: Priority.LOW, jobId: `article-${documentId}-${contentHash.slice(0, 16)}` },
  );
}
