import { z } from 'zod';
import { MAX_PATH_PATTERN_LENGTH, MAX_PATH_PATTERNS, pathPatternError } from '@kbflow/extraction';
import { WEBHOOK_EVENTS } from '@kbflow/queues';
import { storable } from '../domain/storable-text.ts';

/** Request bodies. Strict objects: an unknown field is a 400 naming it. */
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048);
const knowledgeBase = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _')
  .default('default');
const engine = z.enum(['auto', 'http', 'browser']).default('auto');
const respectRobots = z.boolean().default(true).describe("obey the site's robots.txt for kbflow's user agent (a disallowed URL fails with robots_disallowed)");

/** Per-host limits of a crawl, on top of the scraper's defaults (KBFLOW_HOST_MAX_CONCURRENCY, KBFLOW_HOST_MIN_DELAY_MS). */
const politenessLimits = z.strictObject({
  maxConcurrency: z.number().int().min(1).max(64).optional().describe('requests in flight to one host at once, across all scrapers'),
  minDelayMs: z.number().int().min(0).max(60_000).optional().describe("least time between two requests to one host; robots.txt's Crawl-delay raises it"),
});
const politeness = politenessLimits.optional();

/** An RE2 pattern over a link's path and query (linear matching: see packages/extraction/src/path-patterns.ts). */
const pathPattern = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_PATH_PATTERN_LENGTH)
  .superRefine((pattern, ctx) => {
    const error = pathPatternError(pattern);
    if (error) ctx.addIssue({ code: 'custom', message: `does not compile as an RE2 regular expression: ${error}` });
  });
const pathPatterns = z.array(pathPattern).max(MAX_PATH_PATTERNS);
const maxPages = z.number().int().min(1).max(100_000);

/**
 * Where a crawl's or a source's run events are POSTed (docs/webhooks.md).
 * The URL's address is checked by the route too (a private address is
 * refused unless KBFLOW_ALLOW_PRIVATE_NETWORKS).
 */
const webhookInput = z.strictObject({
  url: httpUrl.describe('the receiver; POSTed JSON, redirects not followed'),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .refine((events) => new Set(events).size === events.length, 'must not repeat an event')
    .default([...WEBHOOK_EVENTS])
    .describe('run.started, run.completed (also a cancelled run), run.failed; all three by default'),
  secret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(256)
    .describe('signs each delivery (HMAC-SHA256, Kbflow-Signature header); never shown again in full'),
});
const maxDepth = z.number().int().min(0).max(100);

export const crawlBody = z.strictObject({
  url: httpUrl,
  maxPages: maxPages.default(200),
  maxDepth: maxDepth.default(5),
  engine,
  knowledgeBase,
  deleteUnreached: z
    .boolean()
    .default(false)
    .describe(
      "when the crawl finishes completely (not cut by maxPages, no page failed other than 404/410), remove the knowledge base's pages on the crawl's origins that it did not reach, with their chunks and vectors (docs/recrawls.md)",
    ),
  respectRobots,
  sitemaps: z.enum(['auto', 'off']).default('auto').describe("auto: robots.txt's Sitemap: lines and /sitemap.xml add their in-scope pages to the crawl"),
  politeness,
  includePaths: pathPatterns.optional(),
  excludePaths: pathPatterns.optional(),
  webhook: webhookInput.optional(),
});

/** A source's schedule; its bounds (minimum interval, at most one cron run a minute) are checked by the route. */
const sourceSchedule = z.union(
  [
    z.strictObject({ every: z.string().min(1).max(32).describe('a duration: 30m, 6h, 1d') }),
    z.strictObject({
      cron: z.string().min(1).max(128).describe('5 fields, or 6 with a single second'),
      tz: z.string().min(1).max(64).optional().describe('IANA time zone, UTC by default'),
    }),
  ],
  { error: 'must be {"every": "6h"} or {"cron": "0 */6 * * *", "tz"?: "Europe/Paris"}' },
);
const sitemaps = z.enum(['auto', 'off']);

const sourceFields = {
  url: httpUrl,
  schedule: sourceSchedule,
  includePaths: pathPatterns,
  excludePaths: pathPatterns,
  maxPages,
  maxDepth,
  engine: z.enum(['auto', 'http', 'browser']),
  respectRobots: z.boolean(),
  sitemaps,
  politeness: politenessLimits,
  deleteUnreached: z.boolean(),
};

export const sourceBody = z.strictObject({
  type: z.literal('site'),
  ...sourceFields,
  knowledgeBase,
  includePaths: sourceFields.includePaths.default([]),
  excludePaths: sourceFields.excludePaths.default([]),
  maxPages: maxPages.default(200),
  maxDepth: maxDepth.default(5),
  engine,
  respectRobots: z.boolean().default(true),
  sitemaps: sitemaps.default('auto'),
  politeness: politenessLimits.optional(),
  deleteUnreached: z.boolean().default(true),
  webhook: webhookInput.optional(),
});

/** A PATCH: any field but the type and the knowledge base (moving a source would strand its documents); `politeness: null` resets it. */
export const sourcePatch = z.strictObject({
  url: sourceFields.url.optional(),
  schedule: sourceFields.schedule.optional(),
  includePaths: sourceFields.includePaths.optional(),
  excludePaths: sourceFields.excludePaths.optional(),
  maxPages: maxPages.optional(),
  maxDepth: maxDepth.optional(),
  engine: sourceFields.engine.optional(),
  respectRobots: z.boolean().optional(),
  sitemaps: sitemaps.optional(),
  politeness: politenessLimits.nullable().optional(),
  deleteUnreached: z.boolean().optional(),
  /** Replaces the webhook (secret included); null removes it. */
  webhook: webhookInput.nullable().optional(),
});

const pageLimit = z.coerce.number().int().min(1).max(100).default(20);

export const sourceListQuery = z.strictObject({ limit: pageLimit, after: z.uuid({ message: 'must be a source id from nextCursor' }).optional() });
export const runListQuery = z.strictObject({ limit: pageLimit, after: z.uuid({ message: 'must be a task id from nextCursor' }).optional() });
export const sourceDeleteQuery = z.strictObject({
  purge: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const scrapeBody = z.strictObject({ url: httpUrl, engine, knowledgeBase, respectRobots });

export const batchScrapeBody = z.strictObject({
  urls: z.array(httpUrl).min(1).max(1000),
  engine,
  knowledgeBase,
  respectRobots,
});

/** NUL and lone surrogates are dropped first (see storable): PostgreSQL's full-text search and the search log cannot take them. */
const queryText = z.preprocess((value) => storable(value), z.string().trim().min(1, 'must not be empty').max(4000));

const mode = z.enum(['hybrid', 'vector', 'keyword']).default('hybrid');

/**
 * ISO 8601 with a time and an offset (`Z` or `+02:00`), passed on as UTC.
 * An offset can push 9999-12-31 or 0000-01-01 out of the four-digit years
 * that ISO strings (and the job catalog) allow, so the UTC year is checked.
 */
const isoDateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset, e.g. 2026-01-31T00:00:00Z' })
  .refine((s) => {
    const year = new Date(s).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, 'must fall between the years 0001 and 9999 in UTC')
  .transform((s) => new Date(s).toISOString());

/** Filters and reranking shared by search and query; the job catalog has the same fields. */
const retrievalFields = {
  mode,
  contentTypes: z
    .array(z.enum(['page', 'record', 'case', 'article']))
    .min(1)
    .max(4)
    .transform((types) => [...new Set(types)])
    .optional(),
  sources: z
    .array(z.string().trim().min(1, 'must not be empty').max(512))
    .min(1)
    .max(50)
    .transform((sources) => [...new Set(sources)])
    .optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
  collapseDuplicates: z.boolean().default(true),
  diversity: z.number().min(0).max(1).default(0),
};

/** A date range must not be empty: `since` before `until`. */
function sinceBeforeUntil(body: { since?: string | undefined; until?: string | undefined }, ctx: z.RefinementCtx): void {
  if (body.since && body.until && body.since >= body.until) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
  }
}

export const queryBody = z
  .strictObject({
    query: queryText,
    topK: z.number().int().min(1).max(50).default(5),
    ...retrievalFields,
    knowledgeBase,
    /** Answer as `text/event-stream` while the answer forms (see the route). */
    stream: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .superRefine(sinceBeforeUntil);

export const searchBody = z
  .strictObject({
    query: queryText,
    topK: z.number().int().min(1).max(100).default(10),
    ...retrievalFields,
    knowledgeBase,
  })
  .superRefine(sinceBeforeUntil);

/** `GET /v1/search/analytics` query string: the last 24 hours of every knowledge base by default. */
export const searchAnalyticsQuery = z
  .strictObject({
    since: isoDateTime.optional(),
    until: isoDateTime.optional(),
    knowledgeBase: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _')
      .optional(),
  })
  .superRefine(sinceBeforeUntil);

export const embedBody = z.strictObject({
  texts: z.array(z.string().min(1, 'must not be empty').max(32_000)).min(1).max(128),
});

export const taskIdParam = z.uuid({ message: 'must be a task id (UUID)' });

/** `GET /v1/tasks`: the caller's tasks, newest first. */
export const taskListQuery = z.strictObject({
  state: z.enum(['queued', 'running', 'cancelling', 'completed', 'failed', 'cancelled']).optional(),
  type: z.enum(['crawl', 'scrape', 'batch-scrape', 'ingest', 'purge']).optional(),
  source: z.uuid({ message: 'must be a source id' }).optional(),
  since: isoDateTime.optional(),
  limit: pageLimit,
  after: z.uuid({ message: 'must be a task id from nextCursor' }).optional(),
});
