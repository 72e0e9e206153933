import { breakerEnvShape, commonEnvShape, parseEnv, scraperEnvShape, workerEnvShape } from '@kbflow/config';
import { z } from 'zod';

export const scraperEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9101, 8),
  ...scraperEnvShape,
  ...breakerEnvShape,
});

export type ScraperEnv = z.infer<typeof scraperEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): ScraperEnv {
  return parseEnv(scraperEnvSchema, source, { service: 'scraper' });
}
