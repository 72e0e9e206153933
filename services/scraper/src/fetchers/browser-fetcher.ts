import { parseRetryAfter } from '@kbflow/embeddings';
import { AppError, PermanentError } from '@kbflow/queues';
import { chromium, type Browser } from 'playwright-core';
import { assertUrlAllowed, type AddressPolicy } from '@kbflow/net';
import { HttpStatusError, type FetchedPage, type PageFetcher } from './fetched-page.ts';
import { BLOCKED_HEADER, GuardedProxy } from './guarded-proxy.ts';

/**
 * Flags that work on these machines (ENVIRONMENT.md): no sandbox as root, no
 * background network. Playwright gives every launch a fresh temporary
 * profile itself (it refuses --user-data-dir), which is the fresh profile
 * Chromium needs here.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserFetcherOptions {
  executablePath: string;
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  maxBytes: number;
  userAgent: string;
  /** How hosts are resolved and classified; defaults to DNS and the public-range check (tests inject both). */
  addressPolicy?: AddressPolicy;
}

/**
 * The browser engine: Debian's Chromium driven by playwright-core, launched on
 * first use and shared by all jobs of the process (a fresh context per page).
 * Every request the page makes, redirects included, passes the address guard:
 * each context talks to the network only through a {@link GuardedProxy} of
 * its own (Playwright's request interception never sees redirect hops, so it
 * cannot be the guard).
 */
export class BrowserFetcher implements PageFetcher {
  private readonly opts: BrowserFetcherOptions;
  private browser: Promise<Browser> | undefined;

  constructor(opts: BrowserFetcherOptions) {
    this.opts = opts;
  }

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      const browser = await chromium.launch({
        executablePath: this.opts.executablePath,
        args: CHROMIUM_ARGS,
        timeout: 30_000,
      });
      browser.on('disconnected', () => {
        this.browser = undefined;
      });
      return browser;
    })().catch((error: unknown) => {
      this.browser = undefined;
      throw new AppError('browser_unavailable', `cannot start Chromium at ${this.opts.executablePath}: ${(error as Error).message}`, { cause: error });
    });
    return this.browser;
  }

  async fetch(url: string): Promise<FetchedPage> {
    assertUrlAllowed(new URL(url), this.opts.allowPrivateNetworks, this.opts.addressPolicy);
    const browser = await this.launch();
    const proxy = new GuardedProxy({ allowPrivateNetworks: this.opts.allowPrivateNetworks, addressPolicy: this.opts.addressPolicy });
    const proxyUrl = await proxy.start();
    const context = await browser
      // `<-loopback>` removes Chromium's built-in bypass for localhost, which would skip the guard.
      .newContext({ userAgent: this.opts.userAgent, javaScriptEnabled: true, proxy: { server: proxyUrl, bypass: '<-loopback>' } })
      .catch(async (error: unknown) => {
        await proxy.close();
        throw error;
      });
    try {
      const page = await context.newPage();
      let response;
      try {
        response = await page.goto(url, { waitUntil: 'networkidle', timeout: this.opts.timeoutMs });
      } catch (error) {
        // A refused HTTPS tunnel fails the navigation itself; the proxy knows why.
        const blocked = proxy.blocked.at(-1);
        if (blocked) throw blocked;
        throw new AppError('browser_fetch_failed', `${url}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
      }
      // The document (after any redirects) was refused by the proxy; refused subresources only leave gaps.
      const refusal = response?.headers()[BLOCKED_HEADER];
      if (refusal !== undefined) throw proxy.blocked.find((e) => e.message === refusal) ?? new PermanentError('blocked_address', refusal);
      const status = response?.status() ?? 0;
      if (status >= 400) {
        const message = `${url} answered ${status}`;
        const retryAfter = status === 429 || status === 503 ? response?.headers()['retry-after'] : undefined;
        const retryAfterMs = retryAfter === undefined ? undefined : parseRetryAfter(new Headers({ 'retry-after': retryAfter }));
        if (retryAfterMs !== undefined) throw new AppError('http_status', message, { retryAfterMs });
        throw status === 429 || status >= 500 ? new AppError('http_status', message) : new HttpStatusError(url, status);
      }
      const html = await page.content();
      if (Buffer.byteLength(html) > this.opts.maxBytes) throw new PermanentError('page_too_large', `${url} is larger than ${this.opts.maxBytes} bytes`);
      return { finalUrl: page.url(), status, contentType: response?.headers()['content-type'] ?? 'text/html', html, engine: 'browser' };
    } finally {
      await context.close().catch(() => undefined);
      await proxy.close();
    }
  }

  async close(): Promise<void> {
    const browser = await this.browser?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
    this.browser = undefined;
  }
}
