import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { HashingEmbedder } from '@kbflow/embeddings';

const DEFAULT_DIMENSIONS = 384;
const ANSWER_QUOTE_CHARS = 200;

/**
 * A fault for the next requests:
 * - `{ status, retryAfterSeconds?, times? }` answers with that status (and a
 *   `Retry-After` header) instead of serving;
 * - `{ delayMs }` serves every request that much later;
 * - `{ reset: true, times? }` destroys the socket without answering.
 * `times` counts affected requests; without it the fault lasts until
 * `setFault(null)`.
 */
type FakeOpenAIFault = null | { status: number; retryAfterSeconds?: number; times?: number } | { delayMs: number } | { reset: true; times?: number };

export interface FakeOpenAI {
  /** Base URL including `/v1`, to pass as the SDK's `baseURL` / OPENAI_BASE_URL. */
  url: string;
  /**
   * Streamed chat completions (`stream: true`): how many ran to the end,
   * how many the client closed before the last token, and the tokens sent.
   */
  streams: { completed: number; aborted: number; tokensSent: number };
  /** Pause before each streamed token, ms (0 by default); lets a test disconnect mid-stream. */
  setTokenDelay(ms: number): void;
  /** Every request received, faulted ones included, in arrival order; `body` is the parsed JSON the client sent. */
  requests: { path: string; body: any }[];
  setFault(fault: FakeOpenAIFault): void;
  /**
   * Enforces an account's limits as a provider does: at most `requests`
   * requests and `tokens` tokens (characters / 4 of the inputs) in any
   * `windowMs` (a rolling window). Past either it answers 429 with
   * `Retry-After` (seconds) and `retry-after-ms`; served answers carry
   * `x-ratelimit-remaining-*` and `x-ratelimit-reset-*`. `null` lifts it.
   */
  setRateLimit(limit: { requests: number; tokens: number; windowMs: number } | null): void;
  /** What the rate limit saw: requests served and refused (429), with the time of each served one. */
  rateLimited: { served: number[]; refused: number };
  close(): Promise<void>;
}

/**
 * Starts an OpenAI-compatible server on 127.0.0.1 for tests, the real HTTP
 * stand-in for the embedding and chat provider:
 * - `POST /v1/embeddings` returns, for each input, the vector of
 *   `new HashingEmbedder({ dimensions })` (the request's `dimensions`, else
 *   the server's), as floats or base64 float32 per `encoding_format`. `data`
 *   comes back in *reverse* input order: the API does not promise order, and
 *   a client that ignores `index` should fail here rather than in production.
 * - `POST /v1/chat/completions` answers `ANSWER: ` followed by the first 200
 *   characters of the last user message, so a test can tell that an answer
 *   went through the model. With `stream: true` the same text comes as
 *   server-sent `chat.completion.chunk`s, one word (with its leading space)
 *   per chunk, then `[DONE]`.
 * Faults (status codes, latency, connection resets) are set with `setFault`.
 */
export async function startFakeOpenAI(opts: { dimensions?: number } = {}): Promise<FakeOpenAI> {
  const defaultDimensions = opts.dimensions ?? DEFAULT_DIMENSIONS;
  const embedders = new Map<number, HashingEmbedder>();
  const requests: FakeOpenAI['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  let fault: FakeOpenAIFault = null;
  let remaining = Infinity;
  let tokenDelayMs = 0;
  const streams = { completed: 0, aborted: 0, tokensSent: 0 };
  let rateLimit: { requests: number; tokens: number; windowMs: number } | null = null;
  const admitted: { at: number; tokens: number }[] = [];
  const rateLimited: FakeOpenAI['rateLimited'] = { served: [], refused: 0 };

  /** Headers for a request under the rolling limit, or the 429's when over it. */
  const checkRateLimit = (tokens: number): { ok: boolean; headers: Record<string, string> } => {
    if (rateLimit === null) return { ok: true, headers: {} };
    const now = Date.now();
    while (admitted.length > 0 && admitted[0]!.at <= now - rateLimit.windowMs) admitted.shift();
    const used = admitted.reduce((sum, a) => sum + a.tokens, 0);
    const resetMs = admitted.length > 0 ? admitted[0]!.at + rateLimit.windowMs - now : 0;
    if (admitted.length + 1 > rateLimit.requests || used + tokens > rateLimit.tokens) {
      rateLimited.refused += 1;
      return { ok: false, headers: { 'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))), 'retry-after-ms': String(Math.max(1, resetMs)) } };
    }
    admitted.push({ at: now, tokens });
    rateLimited.served.push(now);
    return {
      ok: true,
      headers: {
        'x-ratelimit-limit-requests': String(rateLimit.requests),
        'x-ratelimit-remaining-requests': String(rateLimit.requests - admitted.length),
        'x-ratelimit-reset-requests': `${Math.max(1, resetMs || rateLimit.windowMs)}ms`,
        'x-ratelimit-limit-tokens': String(rateLimit.tokens),
        'x-ratelimit-remaining-tokens': String(rateLimit.tokens - used - tokens),
        'x-ratelimit-reset-tokens': `${Math.max(1, resetMs || rateLimit.windowMs)}ms`,
      },
    };
  };

  const embedderFor = (dimensions: number): HashingEmbedder => {
    let embedder = embedders.get(dimensions);
    if (!embedder) {
      embedder = new HashingEmbedder({ dimensions });
      embedders.set(dimensions, embedder);
    }
    return embedder;
  };

  /** The fault that applies to this request, counting it down. */
  const takeFault = (): FakeOpenAIFault => {
    const current = fault;
    if (current === null || 'delayMs' in current) return current;
    remaining -= 1;
    if (remaining <= 0) fault = null;
    return current;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    requests.push({ path, body });

    const active = takeFault();
    if (active !== null && 'reset' in active) {
      req.socket.destroy();
      return;
    }
    if (active !== null && 'status' in active) {
      const headers: Record<string, string> = {};
      if (active.retryAfterSeconds !== undefined) headers['retry-after'] = String(active.retryAfterSeconds);
      sendError(res, active.status, `fake fault: status ${active.status}`, headers);
      return;
    }
    if (active !== null && 'delayMs' in active) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, active.delayMs);
        timers.add(timer);
      });
      if (res.destroyed) return;
    }

    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      sendError(res, 401, 'missing bearer token');
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      const input = (body as { input?: unknown } | undefined)?.input;
      const limit = checkRateLimit(
        approximateTokens(Array.isArray(input) ? input.filter((t): t is string => typeof t === 'string') : typeof input === 'string' ? [input] : []),
      );
      if (!limit.ok) {
        sendError(res, 429, 'fake rate limit: over the requests or tokens per window', limit.headers);
        return;
      }
      serveEmbeddings(res, body, (dimensions) => embedderFor(dimensions ?? defaultDimensions), limit.headers);
      return;
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if ((body as { stream?: unknown } | undefined)?.stream === true) {
        await streamChat(res, body, { delayMs: () => tokenDelayMs, streams, timers });
        return;
      }
      serveChat(res, body);
      return;
    }
    sendError(res, 404, `no route for ${req.method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, `fake server error: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    streams,
    setTokenDelay(ms) {
      tokenDelayMs = ms;
    },
    rateLimited,
    setRateLimit(limit) {
      rateLimit = limit;
      admitted.length = 0;
    },
    setFault(next) {
      fault = next;
      remaining = next !== null && 'times' in next && next.times !== undefined ? next.times : Infinity;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The error shape OpenAI uses, so the SDK reads the message. */
function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: null, code: type } }, headers);
}

function approximateTokens(texts: string[]): number {
  return texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
}

function serveEmbeddings(
  res: ServerResponse,
  body: unknown,
  embedderFor: (dimensions: number | undefined) => HashingEmbedder,
  extraHeaders: Record<string, string> = {},
): void {
  const request = (body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
  const input = typeof request.input === 'string' ? [request.input] : request.input;
  if (typeof request.model !== 'string' || request.model === '') {
    sendError(res, 400, 'model is required');
    return;
  }
  if (!Array.isArray(input) || input.length === 0 || !input.every((text) => typeof text === 'string' && text !== '')) {
    sendError(res, 400, "'$.input' is invalid: expected a non-empty string or array of non-empty strings");
    return;
  }
  const dimensions = request.dimensions;
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || (dimensions as number) < 2)) {
    sendError(res, 400, 'dimensions must be an integer >= 2');
    return;
  }
  const embedder = embedderFor(dimensions as number | undefined);
  const base64 = request.encoding_format === 'base64';
  const data = (input as string[]).map((text, index) => {
    const vector = embedder.embedOne(text);
    const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = approximateTokens(input as string[]);
  sendJson(
    res,
    200,
    {
      object: 'list',
      data: data.reverse(),
      model: request.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
    extraHeaders,
  );
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? (part.text as string) : '')).join('');
  }
  return '';
}

/** The fake's reply to a conversation: `ANSWER: ` and the start of the last user message; undefined when the request is malformed. */
function chatReply(body: unknown): { content: string; messages: { role?: unknown; content?: unknown }[] } | undefined {
  const request = (body ?? {}) as { model?: unknown; messages?: unknown };
  if (typeof request.model !== 'string' || !Array.isArray(request.messages) || request.messages.length === 0) return undefined;
  const messages = request.messages as { role?: unknown; content?: unknown }[];
  const lastUser = [...messages].reverse().find((message) => message?.role === 'user');
  return { content: `ANSWER: ${messageText(lastUser?.content).slice(0, ANSWER_QUOTE_CHARS)}`, messages };
}

async function streamChat(
  res: ServerResponse,
  body: unknown,
  opts: { delayMs: () => number; streams: FakeOpenAI['streams']; timers: Set<NodeJS.Timeout> },
): Promise<void> {
  const reply = chatReply(body);
  if (!reply) {
    sendError(res, 400, 'model and a non-empty messages array are required');
    return;
  }
  const model = (body as { model: string }).model;
  const id = `chatcmpl-fake-${Date.now()}`;
  // Split before each whitespace: the pieces joined are exactly the non-streamed reply.
  const tokens = reply.content.split(/(?=\s)/);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  let closed = false;
  res.on('close', () => (closed = true));
  for (const [i, token] of tokens.entries()) {
    const delay = opts.delayMs();
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          opts.timers.delete(timer);
          resolve();
        }, delay);
        opts.timers.add(timer);
      });
    }
    if (closed || res.destroyed) {
      opts.streams.aborted += 1;
      return;
    }
    res.write(chunk(i === 0 ? { role: 'assistant', content: token } : { content: token }, null));
    opts.streams.tokensSent += 1;
  }
  res.write(chunk({}, 'stop'));
  res.end('data: [DONE]\n\n');
  opts.streams.completed += 1;
}

function serveChat(res: ServerResponse, body: unknown): void {
  const reply = chatReply(body);
  if (!reply) {
    sendError(res, 400, 'model and a non-empty messages array are required');
    return;
  }
  const request = body as { model: string };
  const { content, messages } = reply;
  const promptTokens = approximateTokens(messages.map((message) => messageText(message?.content)));
  const completionTokens = approximateTokens([content]);
  sendJson(res, 200, {
    id: `chatcmpl-fake-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  });
}
