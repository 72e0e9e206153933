import { ALL_QUEUES, type JobProducer } from '@kbflow/queues';
import { ApiRoutes } from '../http/route-registry.ts';
import { queueCounts } from './responses.ts';
import { COUNTED_STATES } from '../queue-metrics.ts';

/** `GET /v1/queues`: job counts per queue and state, every tenant's together (admin key). */
export function queueRoutes(producer: JobProducer): ApiRoutes {
  const router = new ApiRoutes();
  router.get('/queues', { operationId: 'listQueues', summary: 'Job counts per queue and state (admin)', tags: ['operations'], access: 'admin', responses: { 200: { description: 'every queue', schema: queueCounts } }, example: {} }, async (_req, res) => {
    const queues = await Promise.all(
      ALL_QUEUES.map(async (name) => ({ name, counts: await producer.queue(name).getJobCounts(...COUNTED_STATES) })),
    );
    res.json({ queues });
  });
  return router;
}
