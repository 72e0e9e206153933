import { startSpan, withSpan } from '@kbflow/observability';
import OpenAI from 'openai';
import { ProviderError, toProviderError } from './provider-error.ts';
import type { ChatMessage, ChatModel } from './types.ts';

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * A chat model behind an OpenAI-compatible `/chat/completions` endpoint.
 * Failures are thrown as {@link ProviderError}.
 */
export class OpenAIChatModel implements ChatModel {
  readonly model: string;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  /** The provider's host, for spans (`server.address`). */
  readonly #server: string;

  /** @param opts.timeoutMs per request, 60 s unless given */
  constructor(opts: { apiKey: string; baseURL?: string; model: string; timeoutMs?: number }) {
    this.model = opts.model;
    this.#client = new OpenAI({
      apiKey: opts.apiKey,
      ...(opts.baseURL !== undefined ? { baseURL: opts.baseURL } : {}),
      // Retries belong to the queue (attempts, backoff, rate limiting across
      // workers); SDK retries inside a job would hide 429s and hold its lock.
      maxRetries: 0,
      // The per-request deadline signal enforces the timeout and classifies it
      // (the SDK recognises its own abort by class, which fails across realms,
      // e.g. under Jest's VM); the SDK's timer is only a backstop after it.
      timeout: (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) + 1_000,
    });
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#server = new URL(this.#client.baseURL).host;
  }

  /** The attributes of a chat span (OpenTelemetry's generative-AI conventions). */
  #spanAttributes(opts: { maxTokens?: number; temperature?: number }, streaming: boolean) {
    return {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': this.model,
      'gen_ai.request.max_tokens': opts.maxTokens,
      'gen_ai.request.temperature': opts.temperature,
      'server.address': this.#server,
      'kbflow.chat.streaming': streaming,
    };
  }

  /**
   * Sends the conversation and returns the first choice's text.
   *
   * @param opts.maxTokens sent as `max_tokens`, which OpenAI's non-reasoning
   *   models and every compatible server (Ollama, vLLM) accept
   * @param opts.temperature omitted unless given (reasoning models reject it)
   */
  complete(messages: ChatMessage[], opts: { maxTokens?: number; temperature?: number } = {}): Promise<string> {
    return withSpan(`chat ${this.model}`, { kind: 'client', attributes: this.#spanAttributes(opts, false) }, async (span) => {
      const { content, usage } = await this.#complete(messages, opts);
      span.setAttributes({ 'gen_ai.usage.input_tokens': usage?.prompt_tokens, 'gen_ai.usage.output_tokens': usage?.completion_tokens });
      return content;
    });
  }

  async #complete(
    messages: ChatMessage[],
    opts: { maxTokens?: number; temperature?: number },
  ): Promise<{ content: string; usage: OpenAI.CompletionUsage | undefined }> {
    let response: OpenAI.Chat.Completions.ChatCompletion;
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      response = await this.#client.chat.completions.create(
        {
          model: this.model,
          messages: messages.map(({ role, content }) => ({ role, content })),
          ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
        },
        { signal: deadline },
      );
    } catch (error) {
      throw toProviderError(error, `chat completion with ${this.model}`, { timedOut: deadline.aborted });
    }
    const choice = response?.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== 'string' || content.trim() === '') {
      throw new ProviderError(
        'provider_bad_response',
        `chat completion with ${this.model} returned no text (finish_reason ${choice?.finish_reason ?? 'none'})`,
        { retryable: false },
      );
    }
    return { content, usage: response.usage };
  }

  /**
   * The same completion through the streaming API (`stream: true`): yields
   * each content delta as the provider sends it. Aborting `opts.signal`
   * closes the HTTP stream.
   */
  async *stream(messages: ChatMessage[], opts: { maxTokens?: number; temperature?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    // The span lasts as long as the stream (ended when the consumer stops reading, too).
    const span = startSpan(`chat ${this.model}`, { kind: 'client', attributes: this.#spanAttributes(opts, true) });
    let failure: unknown;
    try {
      yield* this.#stream(messages, opts);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      span.end(failure);
    }
  }

  async *#stream(messages: ChatMessage[], opts: { maxTokens?: number; temperature?: number; signal?: AbortSignal }): AsyncGenerator<string> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
    let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
    try {
      stream = await this.#client.chat.completions.create(
        {
          model: this.model,
          messages: messages.map(({ role, content }) => ({ role, content })),
          stream: true,
          ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
        },
        { signal },
      );
    } catch (error) {
      throw toProviderError(error, `chat completion stream with ${this.model}`, { timedOut: deadline.aborted });
    }
    let produced = false;
    try {
      for await (const chunk of stream) {
        const delta = chunk.choices?.[0]?.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          produced = true;
          yield delta;
        }
      }
    } catch (error) {
      if (opts.signal?.aborted) return;
      throw toProviderError(error, `chat completion stream with ${this.model}`, { timedOut: deadline.aborted });
    }
    if (!produced && !opts.signal?.aborted) {
      throw new ProviderError('provider_bad_response', `chat completion stream with ${this.model} returned no text`, { retryable: false });
    }
  }
}
