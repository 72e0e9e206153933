import { z } from 'zod';
import { storable } from '../domain/storable-text.ts';

/** Request bodies. Strict objects: an unknown field is a 400 naming it. */
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048);
const knowledgeBase = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _')
  .default('default');
const engine = z.enum(['auto', 'http', 'browser']).default('auto');

export const crawlBody = z.strictObject({
  url: httpUrl,
  maxPages: z.number().int().min(1).max(100_000).default(200),
  maxDepth: z.number().int().min(0).max(100).default(5),
  engine,
  knowledgeBase,
  deleteUnreached: z
    .boolean()
    .default(false)
    .describe(
      "when the crawl finishes completely (not cut by maxPages, no page failed other than 404/410), remove the knowledge base's pages on the crawl's origins that it did not reach, with their chunks and vectors (docs/recrawls.md)",
    ),
});

export const scrapeBody = z.strictObject({ url: httpUrl, engine, knowledgeBase });

export const batchScrapeBody = z.strictObject({
  urls: z.array(httpUrl).min(1).max(1000),
  engine,
  knowledgeBase,
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
