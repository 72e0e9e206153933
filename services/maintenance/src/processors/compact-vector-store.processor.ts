import type { JobContext, JobData } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';

/**
 * Compacts the vector store. On LanceDB every commit of every embed job adds
 * a fragment, and a search scans each one: after a 500-page crawl that was
 * 850 fragments and multi-second queries until compaction.
 */
export async function compactVectorStore(data: JobData<'maintenance', 'compact-vector-store'>, ctx: JobContext, deps: { vectors: VectorStore }) {
  const started = performance.now();
  const compacted = await deps.vectors.compact();
  const ms = Math.round(performance.now() - started);
  ctx.log.info({ reason: data.reason, compacted, ms }, 'vector store compaction done');
  return { compacted, ms };
}
