import type { ChatModel } from '@kbflow/embeddings';
import { z } from 'zod';
import { clip, MAX_RESOLUTION_STEPS, MAX_SYMPTOMS, writeExtractiveArticle, type ArticleDraft, type ArticleSourceCase } from './extractive-article.ts';

const MAX_PROMPT_CHARS = 12_000;
const MAX_CASE_CHARS = 1_200;

/** The system prompt: write from the cases only, answer with one JSON object. */
const ARTICLE_SYSTEM_PROMPT = [
  'You write knowledge base articles from support cases that report the same recurring problem.',
  'Use only facts stated in the cases. Never invent causes, fixes or product details.',
  'Reply with one JSON object and nothing else:',
  '{"title": string, "summary": string, "symptoms": string[], "resolutionSteps": string[]}',
  '- title: a short name for the problem (at most 120 characters);',
  '- summary: one or two sentences describing the problem;',
  `- symptoms: up to ${MAX_SYMPTOMS} distinct symptoms or error messages, quoted from the cases where possible;`,
  `- resolutionSteps: up to ${MAX_RESOLUTION_STEPS} steps taken from the cases' resolutions, in order; an empty array when no case has a resolution.`,
].join('\n');

const line = z.string().trim().min(1).max(500);
/** What the model must return; anything else falls back to the extractive article. */
const llmArticleSchema = z.object({
  title: z.string().trim().min(3).max(200),
  summary: z.string().trim().min(10).max(1500),
  symptoms: z.array(line).max(20),
  resolutionSteps: z.array(line).max(20),
});

/** The user message: the pattern's cases, numbered, each cut to fit. */
export function articlePrompt(category: string, cases: readonly ArticleSourceCase[]): string {
  let prompt = `Category: ${category}\nCases (${cases.length}):\n\n`;
  cases.forEach((c, i) => {
    const resolution = c.resolution.trim() === '' ? '(none recorded)' : clip(c.resolution, 400);
    const block = `[${i + 1}] ${c.externalId}\nSubject: ${clip(c.subject, 200)}\nDescription: ${clip(c.description, MAX_CASE_CHARS)}\nResolution: ${resolution}\n\n`;
    if (prompt.length + block.length <= MAX_PROMPT_CHARS) prompt += block;
  });
  return prompt;
}

/** The JSON object in a reply, also when wrapped in a Markdown fence or prose. */
export function parseArticleReply(reply: string): ArticleDraft {
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the reply holds no JSON object');
  const parsed = llmArticleSchema.parse(JSON.parse(reply.slice(start, end + 1)));
  return {
    title: clip(parsed.title, 200),
    summary: parsed.summary,
    symptoms: parsed.symptoms.slice(0, MAX_SYMPTOMS).map((s) => clip(s, 300)),
    resolutionSteps: parsed.resolutionSteps.slice(0, MAX_RESOLUTION_STEPS).map((s) => clip(s, 300)),
  };
}

export interface WrittenArticle {
  draft: ArticleDraft;
  generatedBy: 'llm' | 'extractive';
  /** Why the LLM's article was not used, when one was asked for. */
  fallbackReason?: string;
}

/**
 * The article of a pattern: written by the chat model when one is
 * configured, extractive otherwise. Any failure of the model (provider
 * error, open breaker, no JSON, a reply the schema rejects) falls back to
 * the extractive article, so generation never stops at the LLM. Steps the
 * model gives when no case records a resolution are dropped: they could
 * only be invented.
 *
 * @param cases most representative first
 */
export async function writeArticle(category: string, cases: readonly ArticleSourceCase[], chat: ChatModel | undefined): Promise<WrittenArticle> {
  if (!chat) return { draft: writeExtractiveArticle(cases), generatedBy: 'extractive' };
  try {
    const reply = await chat.complete(
      [
        { role: 'system', content: ARTICLE_SYSTEM_PROMPT },
        { role: 'user', content: articlePrompt(category, cases) },
      ],
      { temperature: 0, maxTokens: 900 },
    );
    const draft = parseArticleReply(reply);
    if (!cases.some((c) => c.resolution.trim() !== '')) draft.resolutionSteps = [];
    return { draft, generatedBy: 'llm' };
  } catch (error) {
    const reason =
      error instanceof z.ZodError ? `invalid article: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` : (error as Error).message;
    return { draft: writeExtractiveArticle(cases), generatedBy: 'extractive', fallbackReason: clip(reason, 300) };
  }
}
