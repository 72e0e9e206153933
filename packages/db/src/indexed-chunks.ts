import { Prisma } from './generated/client.ts';

/**
 * "Chunk `c` has no vector yet" (no `indexed_chunks` row), for queries that
 * alias the chunk `c`. A scalar subquery, one primary-key probe a chunk, not
 * NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti join, and with no
 * statistics for `indexed_chunks` (it grows as the embedder works, and
 * autovacuum may be off or late) it chose to hash the whole table for the
 * few hundred chunks of one embed batch. The same reasoning as the link
 * probe in claim-links.ts. A sweep over every chunk, where the anti join is
 * the right plan, uses NOT EXISTS instead.
 */
export const CHUNK_NOT_INDEXED = Prisma.sql`(SELECT true FROM indexed_chunks i WHERE i.chunk_id = c.id) IS NULL`;
