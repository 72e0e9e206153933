import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';

export type Db = PrismaClient;

/**
 * The Prisma client over node-postgres (Prisma's JS engine: no native binary).
 * `poolSize` bounds this process's connections; PostgreSQL's default of 100
 * is shared by every replica of every service.
 */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 5 });
  return new PrismaClient({ adapter });
}
