import { lookup } from 'node:dns/promises';
import { AppError, PermanentError } from '@kbflow/queues';
import { chromium, type Browser } from 'playwright-core';
import { assertUrlAllowed, blockedAddressError, isPublicAddress } from '../domain/address-guard.ts';
import type { FetchedPage, PageFetcher } from './fetched-page.ts';

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
}

/**
 * The browser engine: Debian's Chromium driven by playwright-core, launched on
 * first use and shared by all jobs of the process (a fresh context per page).
 * Every request the page makes, redirects included, passes the address guard.
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
    assertUrlAllowed(new URL(url), this.opts.allowPrivateNetworks);
    const browser = await this.launch();
    const context = await browser.newContext({ userAgent: this.opts.userAgent, javaScriptEnabled: true });
    try {
      let blocked: Error | undefined;
      await context.route('**/*', async (route) => {
        const target = new URL(route.request().url());
        if (!/^https?:$/.test(target.protocol)) return route.continue();
        try {
          await this.checkHost(target);
          await route.continue();
        } catch (error) {
          if (route.request().isNavigationRequest()) blocked = error as Error;
          await route.abort('blockedbyclient');
        }
      });
      const page = await context.newPage();
      let response;
      try {
        response = await page.goto(url, { waitUntil: 'networkidle', timeout: this.opts.timeoutMs });
      } catch (error) {
        if (blocked) throw blocked;
        throw new AppError('browser_fetch_failed', `${url}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
      }
      if (blocked) throw blocked;
      const status = response?.status() ?? 0;
      if (status >= 400) {
        const message = `${url} answered ${status}`;
        throw status === 429 || status >= 500 ? new AppError('http_status', message) : new PermanentError('http_status', message);
      }
      const html = await page.content();
      if (Buffer.byteLength(html) > this.opts.maxBytes) throw new PermanentError('page_too_large', `${url} is larger than ${this.opts.maxBytes} bytes`);
      return { finalUrl: page.url(), status, contentType: response?.headers()['content-type'] ?? 'text/html', html, engine: 'browser' };
    } finally {
      await context.close().catch(() => undefined);
    }
  }

  private async checkHost(url: URL): Promise<void> {
    assertUrlAllowed(url, this.opts.allowPrivateNetworks);
    if (this.opts.allowPrivateNetworks) return;
    const addresses = await lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true });
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) throw blockedAddressError(url.hostname, bad.address);
  }

  async close(): Promise<void> {
    const browser = await this.browser?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
    this.browser = undefined;
  }
}
