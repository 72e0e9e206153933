/** Who a call embeds for: caches key their entries by it, so no tenant can see another's. */
export interface EmbedOptions {
  /** The tenant of every text, or one tenant per text (batches that mix tenants). Without it nothing is cached. */
  tenantId?: string | readonly string[];
}

/** Turns texts into vectors for similarity search. */
export interface Embedder {
  /** What produced the vectors, e.g. `local-hashing-ngram-v1` or the provider's model name. */
  readonly model: string;
  /** Length of every vector {@link Embedder.embed} returns. */
  readonly dimensions: number;
  /**
   * Embeds texts in one batch.
   *
   * @param opts who the texts belong to (wrappers pass it on; providers ignore it)
   * @returns one L2-normalized vector per text, in the order of `texts`
   */
  embed(texts: string[], opts?: EmbedOptions): Promise<number[][]>;
}

/** One turn of a chat conversation. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A language model that writes an answer from messages. */
export interface ChatModel {
  readonly model: string;
  /**
   * Completes the conversation.
   *
   * @returns the assistant's reply text
   */
  complete(messages: ChatMessage[], opts?: { maxTokens?: number; temperature?: number }): Promise<string>;
  /**
   * Completes the conversation token by token through the provider's
   * streaming API; the pieces joined are the reply. Aborting `signal`
   * closes the provider's stream.
   */
  stream?(messages: ChatMessage[], opts?: { maxTokens?: number; temperature?: number; signal?: AbortSignal }): AsyncIterable<string>;
}
