import { parseRetryAfter } from '@kbflow/embeddings';
import { AppError, PermanentError } from '@kbflow/errors';
import { Agent, errors as undiciErrors, request } from 'undici';
import { assertUrlAllowed, guardedLookup, type AddressPolicy } from '@kbflow/net';
import { documentFormatOf } from '@kbflow/extraction';
import { HttpStatusError, type FetchedPage, type PageFetcher, type Validators } from './fetched-page.ts';

export interface HttpFetcherOptions {
  allowPrivateNetworks: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  userAgent: string;
  /** How hosts are resolved and classified; defaults to DNS and the public-range check (tests inject both). */
  addressPolicy?: AddressPolicy;
}

/** Transient HTTP statuses: worth another attempt later. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * The HTTP engine (undici). Redirects are followed by hand so that every hop
 * is checked against the address guard; the connector's lookup checks the
 * resolved addresses of every connection (DNS rebinding included).
 */
export class HttpFetcher implements PageFetcher {
  private readonly opts: HttpFetcherOptions;
  private readonly agent: Agent;

  constructor(opts: HttpFetcherOptions) {
    this.opts = opts;
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.allowPrivateNetworks, opts.addressPolicy), timeout: Math.min(opts.timeoutMs, 10_000) },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connections: 64,
    });
  }

  /**
   * `conditional` (the stored page's validators) adds If-None-Match and
   * If-Modified-Since to every hop; a 304 returns at once with no body read.
   * Both are sent when both are known: RFC 9110 has a server that supports
   * ETags ignore If-Modified-Since when If-None-Match is present.
   */
  async fetch(url: string, conditional?: Validators): Promise<FetchedPage> {
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    const conditionalHeaders: Record<string, string> = {};
    if (conditional?.etag) conditionalHeaders['if-none-match'] = conditional.etag;
    if (conditional?.lastModified) conditionalHeaders['if-modified-since'] = conditional.lastModified;
    let current = new URL(url);
    for (let hop = 0; hop <= this.opts.maxRedirects; hop++) {
      assertUrlAllowed(current, this.opts.allowPrivateNetworks, this.opts.addressPolicy);
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(current, {
          dispatcher: this.agent,
          method: 'GET',
          signal: deadline,
          headers: { 'user-agent': this.opts.userAgent, accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5', ...conditionalHeaders },
        });
      } catch (error) {
        throw toFetchError(error, current.href);
      }
      const status = res.statusCode;
      if (status === 304 && conditional) {
        await res.body.dump();
        return {
          finalUrl: current.href,
          status,
          contentType: '',
          html: '',
          engine: 'http',
          notModified: true,
          validators: validatorsOf(res.headers, conditional),
        };
      }
      if (status >= 300 && status < 400 && res.headers.location) {
        await res.body.dump();
        current = new URL(String(res.headers.location), current);
        continue;
      }
      const contentType = String(res.headers['content-type'] ?? '');
      if (status >= 400) {
        await res.body.dump();
        if (status === 429 || status === 503) {
          const header = res.headers['retry-after'];
          const retryAfterMs = header === undefined ? undefined : parseRetryAfter(new Headers({ 'retry-after': String(header) }));
          if (retryAfterMs !== undefined) throw new AppError('http_status', `${current.href} answered ${status}`, { status, retryAfterMs });
        }
        if (RETRYABLE_STATUS.has(status)) throw new AppError('http_status', `${current.href} answered ${status}`, { status });
        throw new HttpStatusError(current.href, status);
      }
      const validators = validatorsOf(res.headers);
      // Document links (PDF, DOCX, Markdown, text) keep their bytes for the engine router to extract.
      const format = /html|xml/i.test(contentType) ? undefined : documentFormatOf(contentType, current.pathname);
      if (format) {
        const bytes = await readCappedBytes(res.body, this.opts.maxBytes, current.href);
        return { finalUrl: current.href, status, contentType, html: '', engine: 'http', document: { bytes, format }, validators };
      }
      if (!/html|xml/i.test(contentType)) {
        await res.body.dump();
        return { finalUrl: current.href, status, contentType, html: '', engine: 'http' };
      }
      const html = await readCapped(res.body, this.opts.maxBytes, current.href);
      return { finalUrl: current.href, status, contentType, html, engine: 'http', validators };
    }
    throw new PermanentError('too_many_redirects', `${url} redirected more than ${this.opts.maxRedirects} times`);
  }

  /**
   * A site's own files (robots.txt, sitemaps): the same address guard, user
   * agent and redirect limit as pages, any status returned rather than
   * thrown, and the body cut at `maxBytes` instead of refused (RFC 9309 lets
   * a crawler ignore a robots.txt past 500 KiB; a sitemap past its cap is
   * read as far as it goes).
   */
  async fetchResource(url: string, maxBytes: number): Promise<{ status: number; finalUrl: string; contentType: string; body: Buffer }> {
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    let current = new URL(url);
    for (let hop = 0; hop <= this.opts.maxRedirects; hop++) {
      assertUrlAllowed(current, this.opts.allowPrivateNetworks, this.opts.addressPolicy);
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(current, { dispatcher: this.agent, method: 'GET', signal: deadline, headers: { 'user-agent': this.opts.userAgent } });
      } catch (error) {
        throw toFetchError(error, current.href);
      }
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        await res.body.dump();
        current = new URL(String(res.headers.location), current);
        continue;
      }
      const contentType = String(res.headers['content-type'] ?? '');
      if (res.statusCode >= 400) {
        await res.body.dump();
        return { status: res.statusCode, finalUrl: current.href, contentType, body: Buffer.alloc(0) };
      }
      const parts: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          parts.push(chunk);
          size += chunk.length;
          if (size >= maxBytes) {
            res.body.destroy();
            break;
          }
        }
      } catch (error) {
        throw toFetchError(error, current.href);
      }
      return { status: res.statusCode, finalUrl: current.href, contentType, body: Buffer.concat(parts).subarray(0, maxBytes) };
    }
    throw new PermanentError('too_many_redirects', `${url} redirected more than ${this.opts.maxRedirects} times`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * A response's validators. A 304 may omit them (RFC 9110 asks for the ETag
 * but not always Last-Modified): what it does not send stays as stored.
 * Bounded: a validator longer than 512 characters is not one worth storing.
 */
function validatorsOf(headers: Record<string, string | string[] | undefined>, stored?: Validators): Validators {
  const header = (name: string): string | null => {
    const value = headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    return text && text.length <= 512 ? text : null;
  };
  return { etag: header('etag') ?? stored?.etag ?? null, lastModified: header('last-modified') ?? stored?.lastModified ?? null };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy: (e?: Error) => void }, maxBytes: number, url: string): Promise<string> {
  return (await readCappedBytes(body, maxBytes, url)).toString('utf8');
}

async function readCappedBytes(body: AsyncIterable<Buffer> & { destroy: (e?: Error) => void }, maxBytes: number, url: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new PermanentError('page_too_large', `${url} is larger than ${maxBytes} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function toFetchError(error: unknown, url: string): Error {
  if (error instanceof AppError) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof AppError) return cause;
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || (error as Error).name === 'TimeoutError') {
    return new AppError('fetch_timeout', `${url} timed out`, { cause: error });
  }
  const code = (error as { code?: string }).code;
  if (code === 'ENOTFOUND') return new PermanentError('dns_not_found', `${url}: host not found`, { cause: error });
  return new AppError('fetch_failed', `${url}: ${(error as Error).message}`, { cause: error });
}
