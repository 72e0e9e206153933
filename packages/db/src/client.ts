import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';

export type Db = PrismaClient;

/**
 * Limits for interactive transactions. Prisma's defaults (2 s to get a
 * connection, 5 s to finish) failed jobs on a loaded two-core machine while
 * eight scrape jobs queued for one crawl's task-row lock; the work then
 * retried and succeeded. These bounds still end a stuck transaction.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/**
 * The Prisma client over node-postgres (Prisma's JS engine: no native binary).
 * `poolSize` bounds this process's connections; PostgreSQL's default of 100
 * is shared by every replica of every service.
 */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 5 });
  return new PrismaClient({ adapter });
}
