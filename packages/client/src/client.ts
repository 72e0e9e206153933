import createClient, { type Client } from 'openapi-fetch';
import { KbflowApiError } from './errors.ts';
import type { components, operations, paths } from './generated/openapi.ts';
import { retryingFetch, type RetryOptions } from './retrying-fetch.ts';
import { readQueryStream, type QueryStreamEvent } from './sse.ts';

type Schemas = components['schemas'];
type JsonBody<Op extends keyof operations> = operations[Op] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type QueryOf<Op extends keyof operations> = operations[Op] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type TaskStatus = Schemas['TaskStatus'];
export type QueryAnswer = Schemas['QueryAnswer'];
export type SearchResults = Schemas['SearchResults'];
export type CrawlRequest = JsonBody<'crawl'>;
export type QueryRequest = JsonBody<'query'>;
export type SearchRequest = JsonBody<'search'>;

export interface KbflowClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** A tenant's API key (or the admin key), sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Retries of 429/503 answers (and of unanswered safe requests); `{ attempts: 1 }` turns them off. */
  retry?: RetryOptions;
  /** The fetch to send with (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

/** Per-call options of the write helpers. */
export interface WriteOptions {
  /** Sent as `Idempotency-Key`: a repeat gets the first answer back and does nothing again. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up after this long, ms (default 10 minutes). */
  timeoutMs?: number;
  /** Pause between two reads, ms (default 1000). */
  intervalMs?: number;
  /** Called with each status read, final one included. */
  onProgress?: (task: TaskStatus) => void;
  signal?: AbortSignal;
}

/** A raw answer: any status, the body parsed as JSON when it is JSON. */
export interface RawResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the raw escape hatch: any route's body, read by callers that know its shape
  json: any;
  text: string;
}

export interface RawRequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (CSV, NDJSON, multipart FormData), with `contentType` unless FormData. */
  body?: BodyInit;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * The typed kbflow client. `api` is the whole API, typed from the OpenAPI
 * document (`client.api.GET('/v1/tasks/{id}', { params: { path: { id } } })`);
 * the helpers cover the common flows and throw {@link KbflowApiError} on
 * an error answer. Every request goes through the retrying fetch.
 */
export class KbflowClient {
  /** The typed client of every route (openapi-fetch). */
  readonly api: Client<paths>;
  readonly #fetch: typeof fetch;
  readonly #baseUrl: string;
  readonly #apiKey: string;

  constructor(opts: KbflowClientOptions) {
    let base = opts.baseUrl;
    while (base.endsWith('/')) base = base.slice(0, -1);
    this.#baseUrl = base;
    this.#apiKey = opts.apiKey;
    this.#fetch = retryingFetch(opts.fetch ?? globalThis.fetch, opts.retry);
    this.api = createClient<paths>({
      baseUrl: this.#baseUrl,
      headers: { authorization: `Bearer ${opts.apiKey}` },
      fetch: (request: Request) => this.#fetch(request),
    });
  }

  /** Sends any request (any status comes back, nothing is thrown for 4xx/5xx). */
  async request(method: string, path: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
    const url = new URL(`${this.#baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}`, ...opts.headers };
    let body: BodyInit | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    } else if (opts.contentType) headers['content-type'] ??= opts.contentType;
    const res = await this.#fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  #unwrap<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
    if (result.response.status >= 400 || result.data === undefined) throw new KbflowApiError(result.response.status, result.error, what);
    return result.data;
  }

  #writeHeaders(opts: WriteOptions | undefined): Record<string, string> {
    return opts?.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {};
  }

  /** `POST /v1/crawl`: starts a crawl; poll it with {@link waitForTask}. */
  async crawl(body: CrawlRequest, opts?: WriteOptions): Promise<{ taskId: string }> {
    return this.#unwrap(
      'POST /v1/crawl',
      await this.api.POST('/v1/crawl', { body, headers: this.#writeHeaders(opts), ...(opts?.signal ? { signal: opts.signal } : {}) }),
    );
  }

  /** `POST /v1/scrape`: one page. */
  async scrape(body: JsonBody<'scrape'>, opts?: WriteOptions): Promise<{ taskId: string }> {
    return this.#unwrap('POST /v1/scrape', await this.api.POST('/v1/scrape', { body, headers: this.#writeHeaders(opts) }));
  }

  /** `GET /v1/tasks/{id}`. */
  async getTask(id: string): Promise<TaskStatus> {
    return this.#unwrap(`GET /v1/tasks/${id}`, await this.api.GET('/v1/tasks/{id}', { params: { path: { id } } }));
  }

  /**
   * Polls a task until it is completed, failed or cancelled and returns that status;
   * throws past the deadline with the last progress seen.
   */
  async waitForTask(id: string, opts: WaitOptions = {}): Promise<TaskStatus> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const task = await this.getTask(id);
      opts.onProgress?.(task);
      if (FINAL_STATES.has(task.state)) return task;
      if (Date.now() > deadline) throw new Error(`task ${id} still ${task.state} after ${opts.timeoutMs ?? 600_000} ms: ${JSON.stringify(task.progress)}`);
      await sleep(opts.intervalMs ?? 1000, opts.signal);
    }
  }

  /** `POST /v1/query`: the answer with its citations. */
  async query(body: QueryRequest, opts?: { signal?: AbortSignal }): Promise<QueryAnswer> {
    return this.#unwrap(
      'POST /v1/query',
      await this.api.POST('/v1/query', { body: { ...body }, ...(opts?.signal ? { signal: opts.signal } : {}) }),
    ) as QueryAnswer;
  }

  /**
   * `POST /v1/query {"stream": true}`: the citations, then the answer piece
   * by piece, then the timings. Breaking out of the loop (or aborting
   * `signal`) closes the connection, which cancels the work on the server.
   */
  async *queryStream(body: QueryRequest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<QueryStreamEvent> {
    const res = await this.#fetch(`${this.#baseUrl}/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#apiKey}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ ...body, stream: true }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status >= 400 || !res.body) throw new KbflowApiError(res.status, await res.json().catch(() => undefined), 'POST /v1/query');
    yield* readQueryStream(res.body);
  }

  /** `POST /v1/search`: ranked passages. */
  async search(body: SearchRequest): Promise<SearchResults> {
    return this.#unwrap('POST /v1/search', await this.api.POST('/v1/search', { body }));
  }

  /** `POST /v1/records` with a JSON array of records. */
  async ingestRecords(records: unknown[], query: QueryOf<'ingestRecords'> = {}, opts?: WriteOptions): Promise<Schemas['RecordsAccepted']> {
    return this.#unwrap(
      'POST /v1/records',
      await this.api.POST('/v1/records', { body: records as never, params: { query }, headers: this.#writeHeaders(opts) }),
    );
  }

  /**
   * `POST /v1/documents`: uploads files (PDF, DOCX, Markdown, text) as a
   * multipart form; each becomes a document chunked with its pages or headings.
   */
  async uploadDocuments(
    files: { name: string; data: Blob | Uint8Array; type?: string }[],
    query: QueryOf<'uploadDocuments'> = {},
    opts?: WriteOptions,
  ): Promise<Schemas['DocumentsAccepted']> {
    const form = new FormData();
    for (const file of files) {
      const blob = file.data instanceof Blob ? file.data : new Blob([file.data as Uint8Array<ArrayBuffer>], { type: file.type ?? 'application/octet-stream' });
      form.append('file', blob, file.name);
    }
    const res = await this.request('POST', '/v1/documents', { body: form, query: query as Record<string, string>, headers: this.#writeHeaders(opts) });
    if (res.status >= 400) throw new KbflowApiError(res.status, res.json, 'POST /v1/documents');
    return res.json as Schemas['DocumentsAccepted'];
  }

  /** `GET /v1/knowledge-bases`. */
  async listKnowledgeBases(): Promise<Schemas['KnowledgeBaseList']> {
    return this.#unwrap('GET /v1/knowledge-bases', await this.api.GET('/v1/knowledge-bases'));
  }

  /** `GET /v1/sources`: one page of the tenant's sources, each with its last and next run. */
  async listSources(query: { limit?: number; after?: string } = {}): Promise<Schemas['SourceList']> {
    return this.#unwrap('GET /v1/sources', await this.api.GET('/v1/sources', { params: { query } }));
  }

  /** `GET /v1/sources/{id}/runs`: a source's runs, newest first, with their reports. */
  async listSourceRuns(id: string, query: { limit?: number; after?: string } = {}): Promise<Schemas['SourceRunList']> {
    return this.#unwrap(`GET /v1/sources/${id}/runs`, await this.api.GET('/v1/sources/{id}/runs', { params: { path: { id }, query } }));
  }

  /** `POST /v1/tasks/{id}/cancel`: stops a crawl or a source run (it reads `cancelled` once nothing of it is queued). */
  async cancelTask(id: string): Promise<TaskStatus> {
    return this.#unwrap(`POST /v1/tasks/${id}/cancel`, await this.api.POST('/v1/tasks/{id}/cancel', { params: { path: { id } } }));
  }

  /** `GET /v1/queues`: every queue's counts with the admin key, the caller's own work in flight with a tenant key. */
  async listQueues(): Promise<Schemas['QueueCounts']> {
    return this.#unwrap('GET /v1/queues', await this.api.GET('/v1/queues'));
  }

  /** `POST /v1/admin/tenants` (admin key). */
  async createTenant(body: { name: string; tier?: Schemas['Tenant']['tier']; limits?: Schemas['TenantLimits'] | null }): Promise<Schemas['Tenant']> {
    return this.#unwrap('POST /v1/admin/tenants', await this.api.POST('/v1/admin/tenants', { body: body as never }));
  }

  /** `GET /v1/admin/tenants` (admin key). */
  async listTenants(): Promise<Schemas['TenantList']> {
    return this.#unwrap('GET /v1/admin/tenants', await this.api.GET('/v1/admin/tenants'));
  }

  /** `POST /v1/admin/tenants/{id}/keys` (admin key): the answer holds the key, the only time it is shown. */
  async createApiKey(tenantId: string, body: { name: string; scopes: Schemas['ApiKey']['scopes']; expiresAt?: string }): Promise<Schemas['CreatedApiKey']> {
    return this.#unwrap('POST /v1/admin/tenants/{id}/keys', await this.api.POST('/v1/admin/tenants/{id}/keys', { params: { path: { id: tenantId } }, body }));
  }

  /** `DELETE /v1/admin/tenants/{id}/keys/{keyId}` (admin key). */
  async revokeApiKey(tenantId: string, keyId: string): Promise<Schemas['ApiKey']> {
    return this.#unwrap(
      'DELETE /v1/admin/tenants/{id}/keys/{keyId}',
      await this.api.DELETE('/v1/admin/tenants/{id}/keys/{keyId}', { params: { path: { id: tenantId, keyId } } }),
    );
  }
}

/** Creates a {@link KbflowClient}. */
export function createKbflowClient(opts: KbflowClientOptions): KbflowClient {
  return new KbflowClient(opts);
}
