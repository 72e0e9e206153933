import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
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
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.poolSize ?? 5 });
  // The pool is ours, so Prisma is told to end it on $disconnect.
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

const pools = new WeakMap<Db, pg.Pool>();

/**
 * The node-postgres pool under a client made by {@link createDb}: for what
 * Prisma cannot do, COPY above all (bulk writes). Its connections are the
 * client's, so the pool size bounds both.
 */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this Prisma client was not made by createDb: no pool to borrow');
  return pool;
}
