import { extractPage, type ExtractedPage } from '@kbflow/extraction';
import { isPermanent } from '@kbflow/queues';
import type { Logger } from 'pino';
import type { FetchedPage, PageFetcher } from './fetched-page.ts';

export type Engine = 'auto' | 'http' | 'browser';

export interface RoutedPage {
  page: FetchedPage;
  /** Undefined when the response was not HTML (nothing to extract). */
  extracted: ExtractedPage | undefined;
}

/**
 * Picks the engine per request: `http` and `browser` as asked; `auto` tries
 * HTTP first and switches to the browser when the page looks rendered by
 * JavaScript or HTTP failed in a way a browser might not (not a 404).
 */
export class EngineRouter {
  private readonly http: PageFetcher;
  private readonly browser: PageFetcher;
  private readonly log: Logger;

  constructor(http: PageFetcher, browser: PageFetcher, log: Logger) {
    this.http = http;
    this.browser = browser;
    this.log = log;
  }

  async fetch(url: string, engine: Engine): Promise<RoutedPage> {
    if (engine === 'browser') return withExtraction(await this.browser.fetch(url));
    if (engine === 'http') return withExtraction(await this.http.fetch(url));
    let viaHttp: RoutedPage;
    try {
      viaHttp = withExtraction(await this.http.fetch(url));
    } catch (error) {
      if (isPermanent(error)) throw error;
      this.log.info({ url, err: (error as Error).message }, 'http engine failed, trying the browser');
      return withExtraction(await this.browser.fetch(url));
    }
    if (!viaHttp.extracted?.needsJavaScript) return viaHttp;
    try {
      return withExtraction(await this.browser.fetch(url));
    } catch (error) {
      // The HTTP result is still worth keeping when the browser cannot run.
      this.log.warn({ url, err: (error as Error).message }, 'page needs JavaScript but the browser failed; keeping the HTTP result');
      return viaHttp;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.browser.close()]);
  }
}

function withExtraction(page: FetchedPage): RoutedPage {
  return { page, extracted: page.html ? extractPage(page.html, page.finalUrl) : undefined };
}
