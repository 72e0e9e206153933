import { DocumentExtractionError, extractDocument, extractPage, type ExtractedPage } from '@kbflow/extraction';
import { withSpan } from '@kbflow/observability';
import { AppError, isPermanent, PermanentError } from '@kbflow/errors';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import type { FetchedPage, PageFetcher, Validators } from './fetched-page.ts';

export type Engine = 'auto' | 'http' | 'browser';

export interface RoutedPage {
  page: FetchedPage;
  /** Undefined when the response was not HTML (nothing to extract) or was a 304 (`page.notModified`). */
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

  /** Pages read of one PDF at most (KBFLOW_MAX_DOCUMENT_PAGES). */
  private readonly maxDocumentPages: number;

  constructor(http: PageFetcher, browser: PageFetcher, log: Logger, registry: Registry, opts: { maxDocumentPages?: number } = {}) {
    this.maxDocumentPages = opts.maxDocumentPages ?? 500;
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

  /** One fetch by one engine: timed, and with tracing on an HTTP client span of the scrape job. */
  private timed(engine: 'http' | 'browser', url: string, conditional?: Validators): Promise<FetchedPage> {
    return withSpan('GET', { kind: 'client', attributes: { 'http.request.method': 'GET', 'url.full': url, 'kbflow.scrape.engine': engine } }, async (span) => {
      const end = this.duration.startTimer({ engine });
      try {
        const page = await (engine === 'http' ? this.http.fetch(url, conditional) : this.browser.fetch(url));
        end({ status: `${Math.floor(page.status / 100)}xx` });
        span.setAttributes({ 'http.response.status_code': page.status, 'kbflow.scrape.final_url': page.finalUrl === url ? undefined : page.finalUrl });
        return page;
      } catch (error) {
        const status = error instanceof AppError ? error.status : undefined;
        end({ status: status === undefined ? 'error' : `${Math.floor(status / 100)}xx` });
        throw error;
      }
    });
  }

  /**
   * `conditional`: the stored page's validators. The HTTP engine sends them
   * (on `http` and on `auto`'s first try); a 304 comes back unextracted, and
   * on `auto` it stands for the page as last stored, whichever engine
   * rendered it then (its HTML did not change). The browser engine fetches
   * unconditionally: a rendered page's content is not what the server's
   * validators describe.
   */
  async fetch(url: string, engine: Engine, conditional?: Validators): Promise<RoutedPage> {
    const withExtraction = (page: FetchedPage) => this.extract(page);
    if (engine === 'browser') return withExtraction(await this.timed('browser', url));
    if (engine === 'http') return withExtraction(await this.timed('http', url, conditional));
    let viaHttp: RoutedPage;
    try {
      viaHttp = await withExtraction(await this.timed('http', url, conditional));
    } catch (error) {
      // A site asking to wait (429/503 with Retry-After) would say the same to the browser.
      if (isPermanent(error) || (error instanceof AppError && error.retryAfterMs !== undefined)) throw error;
      this.log.info({ url, err: (error as Error).message }, 'http engine failed, trying the browser');
      try {
        return await withExtraction(await this.timed('browser', url));
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
      return await withExtraction(await this.timed('browser', url));
    } catch (error) {
      // The HTTP result is still worth keeping when the browser cannot run.
      this.log.warn({ url, err: (error as Error).message }, 'page needs JavaScript but the browser failed; keeping the HTTP result');
      return viaHttp;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.browser.close()]);
  }

  /**
   * HTML through the page extractor; a document link (PDF, DOCX, Markdown,
   * text) through packages/extraction's document extractor. A document that
   * cannot be read (encrypted, truncated, too many pages) fails that page
   * alone, permanently, with the reason.
   */
  private async extract(page: FetchedPage): Promise<RoutedPage> {
    if (page.notModified) return { page, extracted: undefined };
    if (page.document) {
      try {
        return { page, extracted: await extractDocument(page.document.bytes, page.document.format, { name: page.finalUrl, maxPages: this.maxDocumentPages }) };
      } catch (error) {
        if (error instanceof DocumentExtractionError) throw new PermanentError(error.code, error.message);
        throw error;
      }
    }
    return { page, extracted: page.html ? extractPage(page.html, page.finalUrl) : undefined };
  }
}
