import type { TenantWorkRepository } from '@kbflow/db';
import { ALL_QUEUES, type JobProducer } from '@kbflow/queues';
import { ApiRoutes } from '../http/route-registry.ts';
import { queueCounts } from './ops-responses.ts';
import { COUNTED_STATES } from '../queue-metrics.ts';

/**
 * `GET /v1/queues`: with the admin key, job counts per queue and state,
 * every tenant's together (`scope: all`); with a tenant key, that tenant's
 * own work in flight (`scope: tenant`: its unfinished tasks and their pages
 * by status, see TenantWorkRepository), never another tenant's figures.
 */
export function queueRoutes(producer: JobProducer, tenantWork: TenantWorkRepository): ApiRoutes {
  const router = new ApiRoutes();
  router.get(
    '/queues',
    {
      operationId: 'listQueues',
      summary: "Job counts per queue and state (admin), or the caller's own work in flight",
      description: 'The admin key sees every queue (`scope: all`); a tenant key sees its own unfinished tasks and their pages by status (`scope: tenant`).',
      tags: ['operations'],
      responses: { 200: { description: "every queue, or the tenant's work", schema: queueCounts } },
      example: {},
    },
    async (req, res) => {
      if (!req.principal?.isAdmin) {
        res.json({ scope: 'tenant', ...(await tenantWork.inFlight(req.principal!.tenantId)) });
        return;
      }
      const queues = await Promise.all(ALL_QUEUES.map(async (name) => ({ name, counts: await producer.queue(name).getJobCounts(...COUNTED_STATES) })));
      res.json({ scope: 'all', queues });
    },
  );
  return router;
}
