import type { ChatModel } from '@kbflow/embeddings';
import { bodyOf, type RetrievedChunk } from './citations.ts';

const MAX_CONTEXT_CHARS = 12_000;

/** The system prompt: answer only from the numbered sources, cite them as [n]. */
export const SYSTEM_PROMPT =
  'You answer questions using only the numbered sources provided. Cite every claim with the number of its source in square brackets, like [1]. If the sources do not contain the answer, say so.';

/** Builds the numbered context and asks the chat model for a cited answer. */
export async function llmAnswer(chat: ChatModel, query: string, chunks: RetrievedChunk[], sourceIndex: Map<string, number>): Promise<string> {
  let context = '';
  for (const chunk of chunks) {
    const block = `[${sourceIndex.get(chunk.url)}] ${chunk.title} (${chunk.url})\n${bodyOf(chunk)}\n\n`;
    if (context.length + block.length > MAX_CONTEXT_CHARS) break;
    context += block;
  }
  return chat.complete(
    [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: `Sources:\n${context}\nQuestion: ${query}` },
    ],
    { temperature: 0, maxTokens: 600 },
  );
}
