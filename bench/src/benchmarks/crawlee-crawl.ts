import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryStorage } from '@crawlee/memory-storage';
import { CheerioCrawler, Configuration, log, type CheerioCrawlingContext } from '@crawlee/cheerio';
import { crawlableLinks } from '../../../services/scraper/src/domain/link-filter.ts';

/** What one Crawlee crawl did, and how long it took. */
export interface CrawleeRun {
  pages: number;
  failed: number;
  seconds: number;
  /** Characters of body text extracted, so the extraction cannot be skipped by an optimizer or a bug. */
  textChars: number;
}

// Failed requests (the corpus has a 404 and a non-HTML link) are counted, not logged.
log.setLevel(log.LEVELS.OFF);

/**
 * The baseline crawler: Crawlee's CheerioCrawler from `seed`, same origin,
 * up to `maxDepth` and `maxPages`, concurrency fixed (min = max, so its
 * autoscaling cannot make it slower or faster than kbflow's fixed worker
 * concurrency), following exactly the links kbflow's scraper follows (its
 * own link filter) and reading each page's body text. Storage is in memory
 * and fresh per run.
 */
export interface CrawleeOptions {
  seed: string;
  maxPages: number;
  maxDepth: number;
  concurrency: number;
  storageDir: string;
}

async function crawleeCrawl(opts: CrawleeOptions): Promise<CrawleeRun> {
  const origin = new URL(opts.seed).origin;
  const config = new Configuration({
    storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false, localDataDirectory: opts.storageDir }),
    persistStorage: false,
    purgeOnStart: true,
  });
  let pages = 0;
  let failed = 0;
  let textChars = 0;
  const crawler = new CheerioCrawler(
    {
      minConcurrency: opts.concurrency,
      maxConcurrency: opts.concurrency,
      maxRequestsPerCrawl: opts.maxPages,
      maxRequestRetries: 2,
      requestHandler: async ({ $, request, enqueueLinks }: CheerioCrawlingContext) => {
        textChars += $('body').text().length;
        pages++;
        const depth = (request.userData.depth as number | undefined) ?? 0;
        if (depth >= opts.maxDepth) return;
        await enqueueLinks({
          strategy: 'same-origin',
          userData: { depth: depth + 1 },
          transformRequestFunction: (req) => (crawlableLinks([req.url], request.loadedUrl ?? request.url, [origin]).length === 1 ? req : false),
        });
      },
      failedRequestHandler: async () => {
        failed++;
      },
    },
    config,
  );
  const started = performance.now();
  await crawler.run([opts.seed]);
  const seconds = (performance.now() - started) / 1000;
  await crawler.teardown();
  return { pages, failed, seconds, textChars };
}

/**
 * Runs {@link crawleeCrawl} in a fresh process of its own, as kbflow's
 * scraper runs in its own. In the benchmark process Crawlee would also count
 * the memory of the service processes the benchmark started (its children)
 * when its autoscaler checks for overload, and would share an event loop.
 */
export async function crawleeCrawlInProcess(opts: CrawleeOptions): Promise<CrawleeRun> {
  const child = fork(fileURLToPath(import.meta.url), ['--crawl', JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise<CrawleeRun>((resolve, reject) => {
    let result: CrawleeRun | undefined;
    child.once('message', (m) => (result = m as CrawleeRun));
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the Crawlee process exited with ${code} and no result`))));
  });
}

if (process.argv[2] === '--crawl' && process.send) {
  const result = await crawleeCrawl(JSON.parse(process.argv[3]!) as CrawleeOptions);
  process.send(result, () => process.exit(0));
}
