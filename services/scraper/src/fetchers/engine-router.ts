import { extractPage, type ExtractedPage } from '@kbflow/extraction';
import { isPermanent } from '@kbflow/queues';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
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
  private readonly duration: Histogram<'engine' | 'status'>;

  constructor(http: PageFetcher, browser: PageFetcher, log: Logger, registry: Registry) {
    this.http = http;
    this.browser = browser;
    this.log = log;
    this.duration = new Histogram({
      name: 'kbflow_scrape_duration_seconds',
      help: 'Time to fetch a page, by engine and HTTP status class (error: no response).',
      labelNames: ['engine', 'status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
      registers: [registry],
    });
  }

  private async timed(engine: 'http' | 'browser', url: string): Promise<FetchedPage> {
    const end = this.duration.startTimer({ engine });
    try {
      const page = await (engine === 'http' ? this.http : this.browser).fetch(url);
      end({ status: `${Math.floor(page.status / 100)}xx` });
      return page;
    } catch (error) {
      const status = /answered (\d)\d\d/.exec((error as Error).message)?.[1];
      end({ status: status ? `${status}xx` : 'error' });
      throw error;
    }
  }

  async fetch(url: string, engine: Engine): Promise<RoutedPage> {
    if (engine === 'browser') return withExtraction(await this.timed('browser', url));
    if (engine === 'http') return withExtraction(await this.timed('http', url));
    let viaHttp: RoutedPage;
    try {
      viaHttp = withExtraction(await this.timed('http', url));
    } catch (error) {
      if (isPermanent(error)) throw error;
      this.log.info({ url, err: (error as Error).message }, 'http engine failed, trying the browser');
      try {
        return withExtraction(await this.timed('browser', url));
      } catch (browserError) {
        // With the browser's breaker open, the page fails the way HTTP
        // failed (an ordinary retry), rather than holding up the whole
        // scrape queue for a page that may not need a browser at all.
        if ((browserError as { code?: string }).code === 'breaker_open') throw error;
        throw browserError;
      }
    }
    if (!viaHttp.extracted?.needsJavaScript) return viaHttp;
    try {
      return withExtraction(await this.timed('browser', url));
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
