import { ALL_QUEUES, type JobProducer } from '@kbflow/queues';
import { Router } from 'express';
import { COUNTED_STATES } from '../queue-metrics.ts';

/** `GET /v1/queues`: job counts per queue and state. */
export function queueRoutes(producer: JobProducer): Router {
  const router = Router();
  router.get('/queues', async (_req, res) => {
    const queues = await Promise.all(
      ALL_QUEUES.map(async (name) => ({ name, counts: await producer.queue(name).getJobCounts(...COUNTED_STATES) })),
    );
    res.json({ queues });
  });
  return router;
}
