// The vocabulary of tasks shared by TaskRepository and TaskRunRepository: types, states, and what a task was asked to do.

export type TaskType = 'crawl' | 'scrape' | 'batch-scrape' | 'ingest' | 'purge';
/** `cancelling`: cancel asked, queued pages being dropped; `cancelled` once nothing of it is left queued. */
export type TaskState = 'queued' | 'running' | 'cancelling' | 'completed' | 'failed' | 'cancelled';
export type PageStatus = 'discovered' | 'scraped' | 'skipped' | 'embedded' | 'failed' | 'deleted' | 'cancelled';

/**
 * What a crawl found for a page (`task_pages.change`): new or changed
 * content; not-modified (the server answered 304, nothing downloaded);
 * unchanged (downloaded, same content hash); deleted (404/410 or redirected
 * out of scope: its document was removed).
 */
export type PageChange = 'new' | 'changed' | 'not-modified' | 'unchanged' | 'deleted';

/** States in which a task still has work queued or running. */
export const ACTIVE_TASK_STATES: TaskState[] = ['queued', 'running', 'cancelling'];

/** What a crawl-like task was asked to do; stored on the task, read by the scraper. */
export interface CrawlParams {
  seeds: string[];
  maxPages: number;
  maxDepth: number;
  engine: 'auto' | 'http' | 'browser';
  /** Only links on these origins are followed. */
  origins: string[];
  /** RE2 patterns over a link's path (and query): follow only matching / never matching links. */
  includePaths?: string[];
  excludePaths?: string[];
  /** Obey robots.txt (absent on tasks from before it existed: obeyed). */
  respectRobots?: boolean;
  /** Seed the frontier from the site's sitemaps (absent: off). */
  sitemaps?: 'auto' | 'off';
  /** Per-host limits of this task's pages; absent fields take the scraper's defaults. */
  politeness?: { maxConcurrency?: number; minDelayMs?: number };
  /**
   * When the crawl finishes completely, remove the knowledge base's pages
   * within its scope ({@link crawlScopePrefixes}) that it did not reach.
   * Absent on tasks created before it existed: false.
   */
  deleteUnreached?: boolean;
}

/**
 * The scope a crawl's deleteUnreached prunes within, as URL prefixes: the
 * origins it follows links on, each with its trailing slash (so
 * `http://a.test` never matches `http://a.test.evil`). A crawl follows
 * every path of its origins (services/scraper link-filter), so a page of
 * the same origin it did not reach is one the site no longer links to.
 * A crawl's include/exclude path patterns narrow it further (see
 * DocumentRepository.deleteUnreached's `inScope`).
 */
export function crawlScopePrefixes(params: Pick<CrawlParams, 'origins'>): string[] {
  return [...new Set(params.origins.map((o) => `${new URL(o).origin}/`))];
}

/** What an ingest request did with its rows; stored as the task's params when the request is answered. */
export interface IngestParams {
  /** Where the records came from (`documents.source`). */
  source: string;
  received: number;
  /** Valid rows: stored, unchanged or deleted. */
  accepted: number;
  unchanged: number;
  deleted: number;
  invalid: number;
  /** Documents new or changed, handed to the embedder. */
  toEmbed: number;
}

/** An ingest task's counts: its params plus how many of its documents are indexed. */
export interface IngestProgress extends IngestParams {
  embedded: number;
}

/** The final counts of an ingest task (`tasks.result`). */
export interface IngestResult extends IngestProgress {
  /** Documents of the task that did not get indexed. */
  failed: number;
}
