import type { ChatMessage, ChatModel } from '@kbflow/embeddings';
import { bodyOf, type RetrievedChunk } from './citations.ts';

const MAX_CONTEXT_CHARS = 12_000;

/** The system prompt: answer only from the numbered sources, cite them as [n]. */
const SYSTEM_PROMPT =
  'You answer questions using only the numbered sources provided. Cite every claim with the number of its source in square brackets, like [1]. If the sources do not contain the answer, say so.';

/** How the answer is asked for: the same for the whole answer and for a stream of it. */
const ANSWER_OPTIONS = { temperature: 0, maxTokens: 600 };

/** The numbered context and the question, as the chat model reads them. */
function answerMessages(query: string, chunks: RetrievedChunk[], sourceIndex: Map<string, number>): ChatMessage[] {
  let context = '';
  for (const chunk of chunks) {
    const block = `[${sourceIndex.get(chunk.url)}] ${chunk.title} (${chunk.url})\n${bodyOf(chunk)}\n\n`;
    if (context.length + block.length > MAX_CONTEXT_CHARS) break;
    context += block;
  }
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: `Sources:\n${context}\nQuestion: ${query}` },
  ];
}

/** Builds the numbered context and asks the chat model for a cited answer. */
export async function llmAnswer(chat: ChatModel, query: string, chunks: RetrievedChunk[], sourceIndex: Map<string, number>): Promise<string> {
  return chat.complete(answerMessages(query, chunks, sourceIndex), ANSWER_OPTIONS);
}

/** The same answer token by token, through the provider's streaming API (the model must have `stream`). */
export function llmAnswerStream(
  chat: ChatModel & { stream: NonNullable<ChatModel['stream']> },
  query: string,
  chunks: RetrievedChunk[],
  sourceIndex: Map<string, number>,
  signal: AbortSignal,
): AsyncIterable<string> {
  return chat.stream(answerMessages(query, chunks, sourceIndex), { ...ANSWER_OPTIONS, signal });
}
