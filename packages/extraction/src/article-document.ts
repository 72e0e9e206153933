import { chunkMarkdown, type TextChunk } from './chunk-markdown.ts';
import { sha256Hex } from './hash.ts';

/** The written parts of a knowledge article. */
export interface ArticleFields {
  title: string;
  summary: string;
  symptoms: readonly string[];
  resolutionSteps: readonly string[];
}

/** A case listed under an article's "Linked cases". */
export interface ArticleCaseLine {
  externalId: string;
  subject: string;
}

/** Said instead of resolution steps when none of an article's cases records one. */
export const NO_RESOLUTION_RECORDED = 'No resolution recorded in the linked cases.';

/** One line of Markdown: list items and headings must not break. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * An article's body: its title as the top heading (so every chunk's
 * breadcrumb names the article), the summary, then Symptoms, Resolution and
 * the linked cases with their external ids.
 */
export function renderArticleMarkdown(article: ArticleFields, linkedCases: readonly ArticleCaseLine[]): string {
  const parts = [`# ${oneLine(article.title)}`, article.summary.trim()];
  if (article.symptoms.length > 0) parts.push('## Symptoms', article.symptoms.map((s) => `- ${oneLine(s)}`).join('\n'));
  parts.push(
    '## Resolution',
    article.resolutionSteps.length > 0 ? article.resolutionSteps.map((s, i) => `${i + 1}. ${oneLine(s)}`).join('\n') : NO_RESOLUTION_RECORDED,
  );
  if (linkedCases.length > 0) {
    parts.push(`## Linked cases (${linkedCases.length})`, linkedCases.map((c) => `- ${oneLine(c.externalId)}: ${oneLine(c.subject)}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

/** What an article's document holds: its Markdown, the hash that says whether it changed, and its chunks. */
export interface ArticleDocumentContent {
  markdown: string;
  /** Over title, summary and body: article vectors mix in the title and summary, so either changing means re-embedding. */
  contentHash: string;
  chunks: TextChunk[];
}

/** The document of an article with body `markdown`, chunked like every other document. */
export function articleDocument(article: { title: string; summary: string; body: string }): ArticleDocumentContent {
  return {
    markdown: article.body,
    contentHash: sha256Hex(`${article.title}\u0000${article.summary}\u0000${article.body}`),
    chunks: chunkMarkdown(article.body),
  };
}
