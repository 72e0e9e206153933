// The fakes scrapePage's unit tests run it with (scrape-page.processor.test.ts,
// scrape-page.politeness.test.ts): every dependency recorded in memory, a
// robots.txt and a host limiter answering as a test asks, and pages to fetch.
import type { DocumentRepository, PageChange, PageStatus, PageValidators, StoredPage, StoreResult, TaskRepository } from '@kbflow/db';
import { JobDeferral, type FlowNode, type JobContext, type JobProducer } from '@kbflow/queues';
import { pino } from 'pino';
import { RobotsRules, robotsFileOf } from '../domain/robots-rules.ts';
import type { SitemapEntry } from '../domain/sitemap-parser.ts';
import type { RoutedPage } from '../fetchers/engine-router.ts';
import type { Validators } from '../fetchers/fetched-page.ts';
import type { HostLimits, HostSlot } from '../politeness/host-limiter.ts';
import type { ScrapeDeps } from './scrape-page.processor.ts';

export const TASK = '33333333-3333-4333-8333-333333333333';
export const TENANT = '11111111-1111-4111-8111-111111111111';
export const PAGE = 'http://docs.local/a.html';

interface Recorder {
  statuses: [string, PageStatus, string | undefined][];
  flows: FlowNode[];
  bulk: { url: string; parent?: unknown; lastmod?: string }[];
  claimed: string[][];
  /** The `source` each stored document was given. */
  sources: (string | undefined)[];
  /** The validators and links each stored page was given. */
  pages: (PageValidators | undefined)[];
  /** What each page status recorded as its change and HTTP status. */
  changes: [PageChange | undefined, number | undefined][];
  /** The validators each fetch was given. */
  conditionals: (Validators | undefined)[];
  deletedPages: string[];
  /** Every URL deletePage was asked about, whether or not it had a document. */
  deleteAsked: string[];
  /** Jobs enqueued on the embed queue by name (delete-vectors). */
  embedJobs: { name: string; data: unknown }[];
  /** Limits each slot was asked with, and back-offs asked for. */
  acquired: HostLimits[];
  /** How the slot went back, in order: 'both' (host and tenant share at once), 'host', then 'share' at the job's end. */
  releases: ('both' | 'host' | 'share')[];
  backoffs: [string, number][];
  updated: unknown[];
  /** The body bytes each status update recorded (the run report's input). */
  bytes: (number | undefined)[];
}

interface SetupOpts {
  status?: PageStatus;
  fetch: () => Promise<RoutedPage>;
  store?: Partial<StoreResult>;
  attemptsMade?: number;
  maxDepth?: number;
  depth?: number;
  stored?: StoredPage;
  /** robots.txt status and body for docs.local (default: 404, allow all). */
  robots?: [number, string];
  /** The limiter's answer (default: a slot). */
  slot?: HostSlot;
  sitemap?: SitemapEntry[];
  params?: Record<string, unknown>;
  state?: string;
  includePaths?: string[];
  excludePaths?: string[];
}

export function setup(opts: SetupOpts) {
  const rec: Recorder = {
    statuses: [],
    flows: [],
    bulk: [],
    claimed: [],
    sources: [],
    pages: [],
    changes: [],
    conditionals: [],
    deletedPages: [],
    deleteAsked: [],
    embedJobs: [],
    acquired: [],
    releases: [],
    backoffs: [],
    updated: [],
    bytes: [],
  };
  const tasks = {
    get: async () => ({
      id: TASK,
      tenantId: TENANT,
      knowledgeBaseId: 'kb',
      state: opts.state ?? 'running',
      params: {
        seeds: [PAGE],
        maxPages: 100,
        maxDepth: opts.maxDepth ?? 2,
        engine: 'auto',
        origins: ['http://docs.local'],
        includePaths: opts.includePaths,
        excludePaths: opts.excludePaths,
        ...opts.params,
      },
    }),
    pageStatus: async () => opts.status ?? 'discovered',
    scrapeContext: async () => ({ task: await tasks.get(TASK), status: await tasks.pageStatus(TASK, PAGE), stored: opts.stored }),
    markRunning: async () => undefined,
    setPageStatus: async (
      _t: string,
      url: string,
      status: PageStatus,
      extra: { error?: string; change?: PageChange; httpStatus?: number; bytes?: number } = {},
    ) => {
      rec.statuses.push([url, status, extra.error]);
      rec.changes.push([extra.change, extra.httpStatus]);
      rec.bytes.push(extra.bytes);
    },
    // As the repository decides (a page this task scraped becomes embedded; its own test is the integration one).
    markUnchanged: async (_t: string, url: string, extra: { bytes?: number } = {}) => {
      const status = (opts.status ?? 'discovered') === 'scraped' ? 'embedded' : 'skipped';
      rec.statuses.push([url, status, undefined]);
      rec.changes.push([status === 'skipped' ? 'unchanged' : undefined, undefined]);
      rec.bytes.push(status === 'skipped' ? extra.bytes : undefined);
      return status;
    },
    claimLinks: async (input: { urls: string[] }) => {
      rec.claimed.push(input.urls);
      // Never settles the page: the processor then records its status itself (the settling is the repository's, tested with it).
      return { urls: input.urls, settled: false };
    },
  } as unknown as TaskRepository;
  const documents = {
    storedPage: async () => opts.stored,
    deletePage: async (_kb: string, url: string) => {
      rec.deleteAsked.push(url);
      if (!opts.stored) return undefined;
      rec.deletedPages.push(url);
      return { documentIds: [opts.stored.documentId], chunkIds: ['chunk-a', 'chunk-b'] };
    },
    store: async (input: { chunks: unknown[]; source?: string; page?: PageValidators }) => {
      rec.sources.push(input.source);
      rec.pages.push(input.page);
      return {
        documentId: 'doc-1',
        changed: true,
        replaced: false,
        pendingChunkIds: input.chunks.map((_, i) => `chunk-${i}`),
        chunkIds: [],
        ...opts.store,
      };
    },
  } as unknown as DocumentRepository;
  const producer = {
    enqueueFlow: async (node: FlowNode) => {
      rec.flows.push(node);
    },
    enqueueBulk: async (queue: string, name: string, jobs: { data: { url: string; lastmod?: string }; opts: { parent?: unknown } }[]) => {
      if (queue === 'embed') rec.embedJobs.push(...jobs.map((j) => ({ name, data: j.data })));
      else rec.bulk.push(...jobs.map((j) => ({ url: j.data.url, parent: j.opts.parent, ...(j.data.lastmod ? { lastmod: j.data.lastmod } : {}) })));
      return [];
    },
  } as unknown as JobProducer;
  const [robotsStatus, robotsBody] = opts.robots ?? [404, ''];
  const deps: ScrapeDeps = {
    tasks,
    documents,
    producer,
    webhooks: { eventFor: async () => undefined },
    fetchPage: (_url, _engine, conditional) => {
      rec.conditionals.push(conditional);
      return opts.fetch();
    },
    politeness: {
      robots: { rulesFor: async (origin) => new RobotsRules(origin, robotsFileOf(robotsStatus, robotsBody), 'kbflow/0.1') },
      limiter: {
        acquire: async (_host, limits) => {
          rec.acquired.push(limits);
          return (
            opts.slot ?? {
              granted: true,
              release: async () => void rec.releases.push('both'),
              releaseHost: async () => {
                rec.releases.push('host');
                return { release: async () => void rec.releases.push('share') };
              },
            }
          );
        },
        backoff: async (host, ms) => {
          rec.backoffs.push([host, ms]);
          return ms;
        },
      },
      tenants: {
        shareOf: async (queue, tenantId) => ({ key: `tenant-slots:${tenantId}:${queue}`, max: 4 }),
        deferral: async () => new JobDeferral('tenant-limit', 1_000),
      },
      defaults: { maxConcurrency: 4, minDelayMs: 0, maxBackoffMs: 600_000 },
      sitemapUrls: async () => opts.sitemap ?? [],
    },
  };
  const ctx = {
    job: {
      attemptsMade: opts.attemptsMade ?? 0,
      opts: { attempts: 3 },
      parent: { id: `crawl-${TASK}`, queueKey: '{kbflow}:aggregate' },
      updateData: async (d: unknown) => {
        rec.updated.push(d);
      },
    },
    log: pino({ level: 'silent' }),
    correlationId: TASK,
  } as unknown as JobContext;
  return { rec, deps, ctx, data: { tenantId: TENANT, taskId: TASK, url: PAGE, depth: opts.depth ?? 0, engine: 'auto' as const } };
}

export const longSection = (n: number) =>
  Array.from({ length: n }, (_, i) => `## Section ${i}\n\n${`Sentence number ${i} about the topic. `.repeat(30)}`).join('\n\n');

export const page = (markdown: string, links: string[] = [], finalUrl = PAGE): RoutedPage => ({
  page: {
    finalUrl,
    status: 200,
    contentType: 'text/html',
    html: '<html></html>',
    engine: 'http',
    validators: { etag: '"v2"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' },
  },
  extracted: { title: 'A', markdown, text: markdown, links, needsJavaScript: false },
});

export const notModified = (): RoutedPage => ({
  page: { finalUrl: PAGE, status: 304, contentType: '', html: '', engine: 'http', notModified: true, validators: { etag: '"v1"', lastModified: null } },
  extracted: undefined,
});

export const STORED: StoredPage = {
  documentId: 'doc-stored',
  links: ['http://docs.local/b.html', 'http://elsewhere.example/c.html'],
  validators: { etag: '"v1"', lastModified: null },
};
