/** How the client retries answers that say "come back later". */
export interface RetryOptions {
  /** Attempts in all, the first included (1: no retry). Default 4. */
  attempts?: number;
  /** Longest wait between two attempts, ms, whatever Retry-After says. Default 30,000. */
  maxDelayMs?: number;
  /** First wait when the answer has no Retry-After, ms, doubled each attempt. Default 500. */
  baseDelayMs?: number;
}

/** Statuses that mean the request was not served and may be sent again as it is. */
const RETRY_STATUSES = new Set([429, 503]);

/**
 * Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110
 * 10.2.3); undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
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
 * A `fetch` that sends a request again after 429 or 503, waiting what the
 * answer's Retry-After asks (capped), else an exponential backoff with
 * jitter. A request that never got an answer (connection refused, reset) is
 * retried only when sending it twice is safe: GET and DELETE, or any request
 * with an Idempotency-Key (the API then answers a repeat from its record).
 */
export function retryingFetch(inner: typeof fetch, opts: RetryOptions = {}): typeof fetch {
  const attempts = Math.max(1, opts.attempts ?? 4);
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const baseDelayMs = opts.baseDelayMs ?? 500;
  return async (input, init) => {
    const first = new Request(input, init);
    const safeToResend = first.method === 'GET' || first.method === 'DELETE' || first.headers.has('idempotency-key');
    // The body is read once and re-sent from memory: a stream cannot be replayed.
    const body = first.body ? await first.arrayBuffer() : undefined;
    const build = () => new Request(first, body !== undefined ? { body } : {});
    for (let attempt = 1; ; attempt++) {
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      let res: Response;
      try {
        res = await inner(build());
      } catch (error) {
        if (attempt >= attempts || !safeToResend || first.signal.aborted) throw error;
        await sleep(backoff, first.signal);
        continue;
      }
      if (!RETRY_STATUSES.has(res.status) || attempt >= attempts) return res;
      const wait = Math.min(maxDelayMs, retryAfterMs(res.headers.get('retry-after')) ?? backoff);
      await res.body?.cancel().catch(() => undefined);
      await sleep(wait, first.signal);
    }
  };
}
