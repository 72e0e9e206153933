import { withSpan } from '@kbflow/observability';
import OpenAI from 'openai';
import { ProviderError, toProviderError } from './provider-error.ts';
import type { Embedder } from './types.ts';
import { l2NormalizeInPlace } from './vector.ts';

/** Native sizes of OpenAI's embedding models, used when no dimensions are given. */
const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** The API's limit on inputs per embeddings request. */
const MAX_INPUTS_PER_REQUEST = 2048;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Embeds through an OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure,
 * Ollama, vLLM, TEI). Vectors come back in input order, L2-normalized, and
 * checked against {@link OpenAIEmbedder.dimensions}. Failures are thrown as
 * {@link ProviderError}.
 */
export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  /** The provider's host, for spans (`server.address`). */
  readonly #server: string;
  /** Whether to ask the API for a size: only v3 models accept `dimensions`, other servers may reject it. */
  readonly #sendDimensions: boolean;
  /** Sees each successful response's headers (the shared rate limiter reads `x-ratelimit-*`). */
  readonly #onResponseHeaders: ((headers: Headers) => void) | undefined;

  /**
   * @param opts.dimensions required for models other than OpenAI's own;
   *   for `text-embedding-3-*` a smaller size is requested from the API
   * @param opts.timeoutMs per request, 30 s unless given
   */
  constructor(opts: {
    apiKey: string;
    baseURL?: string;
    model: string;
    dimensions?: number;
    timeoutMs?: number;
    onResponseHeaders?: (headers: Headers) => void;
  }) {
    const dimensions = opts.dimensions ?? KNOWN_DIMENSIONS[opts.model];
    if (dimensions === undefined) {
      throw new Error(`embedding model ${opts.model} has no known size: set its dimensions (KBFLOW_EMBEDDING_DIMENSIONS)`);
    }
    this.model = opts.model;
    this.dimensions = dimensions;
    this.#sendDimensions = opts.dimensions !== undefined && opts.model.startsWith('text-embedding-3');
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
    this.#onResponseHeaders = opts.onResponseHeaders;
    this.#server = new URL(this.#client.baseURL).host;
  }

  /** Embeds all texts in one request (more only past the API's 2,048-input limit). */
  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += MAX_INPUTS_PER_REQUEST) {
      vectors.push(...(await this.#embedBatch(texts.slice(start, start + MAX_INPUTS_PER_REQUEST))));
    }
    return vectors;
  }

  /** One provider request, a span of its own when tracing is on. */
  #embedBatch(texts: string[]): Promise<number[][]> {
    const attributes = {
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': this.model,
      'server.address': this.#server,
      'kbflow.embedding.texts': texts.length,
    };
    return withSpan(`embeddings ${this.model}`, { kind: 'client', attributes }, async (span) => {
      const vectors = await this.#request(texts);
      span.setAttributes({ 'gen_ai.usage.input_tokens': vectors.inputTokens });
      return vectors.vectors;
    });
  }

  async #request(texts: string[]): Promise<{ vectors: number[][]; inputTokens: number | undefined }> {
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      const { data, response: raw } = await this.#client.embeddings
        .create(
          {
            model: this.model,
            // The API rejects empty strings; a space embeds as "nothing" without failing the batch.
            input: texts.map((text) => (text.trim() === '' ? ' ' : text)),
            ...(this.#sendDimensions ? { dimensions: this.dimensions } : {}),
          },
          { signal: deadline },
        )
        .withResponse();
      response = data;
      this.#onResponseHeaders?.(raw.headers);
    } catch (error) {
      throw toProviderError(error, `embedding ${texts.length} texts with ${this.model}`, { timedOut: deadline.aborted });
    }
    return { vectors: this.#vectorsInOrder(response, texts.length), inputTokens: response?.usage?.prompt_tokens };
  }

  /** The API does not promise that `data` is in input order; `index` is the truth. */
  #vectorsInOrder(response: OpenAI.Embeddings.CreateEmbeddingResponse, expected: number): number[][] {
    const data = Array.isArray(response?.data) ? response.data : [];
    const vectors = new Array<number[] | undefined>(expected);
    for (const item of data) {
      const index = item.index;
      if (!Number.isInteger(index) || index < 0 || index >= expected || vectors[index] !== undefined) {
        throw this.#badResponse(`index ${index} is out of range or repeated`);
      }
      // The SDK decodes its default base64 encoding into a Float32Array typed as number[].
      const vector = Array.from(item.embedding as ArrayLike<number>);
      if (vector.length !== this.dimensions) {
        throw this.#badResponse(`vector ${index} has ${vector.length} dimensions, expected ${this.dimensions}`);
      }
      if (vector.some((value) => !Number.isFinite(value))) throw this.#badResponse(`vector ${index} is not finite`);
      vectors[index] = l2NormalizeInPlace(vector);
    }
    const missing = vectors.findIndex((vector) => vector === undefined);
    if (data.length !== expected || missing !== -1) {
      throw this.#badResponse(`${data.length} vectors for ${expected} inputs`);
    }
    return vectors as number[][];
  }

  #badResponse(detail: string): ProviderError {
    // A provider that answers 200 with the wrong shape will do so again: a configuration error.
    return new ProviderError('provider_bad_response', `embedding response from ${this.model}: ${detail}`, {
      retryable: false,
    });
  }
}
