import { parseRetryAfter } from '@kbflow/embeddings';
import { AppError, PermanentError } from '@kbflow/errors';
import type { Logger } from '@kbflow/observability';
import { chromium, type Browser } from 'playwright-core';
import { Gauge, type Registry } from 'prom-client';
import { assertUrlAllowed, type AddressPolicy } from '@kbflow/net';
import { HttpStatusError, type FetchedPage, type PageFetcher } from './fetched-page.ts';
import { BLOCKED_HEADER, GuardedProxy } from './guarded-proxy.ts';

/**
 * No background network, no QUIC (it would bypass the HTTP proxy that guards
 * addresses) and WebRTC limited to what goes through that proxy:
 * `disable_non_proxied_udp` leaves a page no UDP of its own (no STUN, no
 * host candidates), so a page cannot reach an address the guard refuses
 * over WebRTC either. Playwright adds `--headless`, and `--no-sandbox` only
 * when the sandbox is off (see {@link BrowserSandbox}); it gives every
 * launch a fresh temporary profile itself (it refuses --user-data-dir).
 */
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Whether Chromium sandboxes its renderers (KBFLOW_BROWSER_SANDBOX), where
 * page JavaScript runs beside the scraper, which holds every tenant's
 * credentials. Chromium's sandbox (user and PID namespaces plus its own
 * seccomp filters per renderer) needs a non-root user and a platform that
 * lets it create user namespaces. Chromium refuses it as root.
 * - `auto` (default): sandboxed unless the process runs as root; if Chromium
 *   cannot start sandboxed (a container whose seccomp profile forbids user
 *   namespaces), it runs without and says so in the log and in the
 *   `kbflow_browser_sandboxed` gauge. The image runs as uid 1000.
 * - `on`: sandboxed or not at all: the browser engine fails with an error
 *   naming this variable (what docker-compose.yml sets).
 * - `off`: never sandboxed (only where nothing untrusted is crawled).
 */
export type BrowserSandbox = 'auto' | 'on' | 'off';

export interface BrowserFetcherOptions {
  executablePath: string;
  sandbox?: BrowserSandbox;
  log?: Logger;
  /** Where `kbflow_browser_sandboxed` is registered. */
  registry?: Registry;
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
  private readonly sandboxGauge: Gauge | undefined;
  /** Whether the running browser is sandboxed; undefined before the first launch. */
  sandboxed: boolean | undefined;

  constructor(opts: BrowserFetcherOptions) {
    this.opts = opts;
    this.sandboxGauge = opts.registry
      ? new Gauge({
          name: 'kbflow_browser_sandboxed',
          help: "1 when Chromium's renderers run sandboxed, 0 when not; absent until the browser first starts",
          registers: [opts.registry],
        })
      : undefined;
  }

  private start(sandbox: boolean): Promise<Browser> {
    return chromium.launch({ executablePath: this.opts.executablePath, args: CHROMIUM_ARGS, chromiumSandbox: sandbox, timeout: 30_000 });
  }

  /** Launches per {@link BrowserSandbox}; throws an error naming the variable when `on` cannot be honoured. */
  private async launchSandboxed(): Promise<Browser> {
    const mode = this.opts.sandbox ?? 'auto';
    const root = process.getuid?.() === 0;
    if (mode === 'off') return this.started(await this.start(false), false);
    if (mode === 'on' && root) {
      throw new PermanentError(
        'browser_sandbox',
        'KBFLOW_BROWSER_SANDBOX=on, but the scraper runs as root and Chromium refuses its sandbox as root: run it as a non-root user (the image does) or set KBFLOW_BROWSER_SANDBOX=auto',
      );
    }
    if (root) {
      this.opts.log?.warn(
        'Chromium runs without its sandbox: the scraper runs as root (run it as a non-root user to sandbox page JavaScript; KBFLOW_BROWSER_SANDBOX)',
      );
      return this.started(await this.start(false), false);
    }
    try {
      return this.started(await this.start(true), true);
    } catch (error) {
      if (mode === 'on') {
        throw new PermanentError(
          'browser_sandbox',
          `KBFLOW_BROWSER_SANDBOX=on, but Chromium cannot start sandboxed (the platform must allow user namespaces; see docs/operations.md): ${(error as Error).message.split('\n')[0]}`,
          { cause: error },
        );
      }
      this.opts.log?.warn(
        { err: (error as Error).message.split('\n')[0] },
        'Chromium cannot start sandboxed here (user namespaces refused?); running it without (KBFLOW_BROWSER_SANDBOX=on refuses instead)',
      );
      return this.started(await this.start(false), false);
    }
  }

  private started(browser: Browser, sandboxed: boolean): Browser {
    this.sandboxed = sandboxed;
    this.sandboxGauge?.set(sandboxed ? 1 : 0);
    return browser;
  }

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      const browser = await this.launchSandboxed();
      browser.on('disconnected', () => {
        this.browser = undefined;
      });
      return browser;
    })().catch((error: unknown) => {
      this.browser = undefined;
      if (error instanceof PermanentError) throw error;
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
        if (retryAfterMs !== undefined) throw new AppError('http_status', message, { status, retryAfterMs });
        throw status === 429 || status >= 500 ? new AppError('http_status', message, { status }) : new HttpStatusError(url, status);
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
