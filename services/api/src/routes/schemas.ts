import { z } from 'zod';

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
});

export const scrapeBody = z.strictObject({ url: httpUrl, engine, knowledgeBase });

export const batchScrapeBody = z.strictObject({
  urls: z.array(httpUrl).min(1).max(1000),
  engine,
  knowledgeBase,
});

const queryText = z.string().trim().min(1, 'must not be empty').max(4000);

const mode = z.enum(['hybrid', 'vector', 'keyword']).default('hybrid');

export const queryBody = z.strictObject({
  query: queryText,
  topK: z.number().int().min(1).max(50).default(5),
  mode,
  knowledgeBase,
});

export const searchBody = z.strictObject({
  query: queryText,
  topK: z.number().int().min(1).max(100).default(10),
  mode,
  knowledgeBase,
});

export const embedBody = z.strictObject({
  texts: z.array(z.string().min(1, 'must not be empty').max(32_000)).min(1).max(128),
});

export const taskIdParam = z.uuid({ message: 'must be a task id (UUID)' });
