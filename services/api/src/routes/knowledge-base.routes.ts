import type { TenantRepository } from '@kbflow/db';
import { ApiRoutes } from '../http/route-registry.ts';
import { knowledgeBases } from './responses.ts';

/** `GET /v1/knowledge-bases`: the caller's knowledge bases (created on first use by crawls, ingests and cases). */
export function knowledgeBaseRoutes(deps: { tenants: TenantRepository }): ApiRoutes {
  const router = new ApiRoutes();
  router.get(
    '/knowledge-bases',
    {
      operationId: 'listKnowledgeBases',
      summary: "The tenant's knowledge bases",
      tags: ['knowledge'],
      responses: { 200: { description: 'every knowledge base of the tenant, by slug', schema: knowledgeBases } },
      example: {},
    },
    async (req, res) => {
      const list = await deps.tenants.listKnowledgeBases(req.principal!.tenantId);
      res.json({ knowledgeBases: list.map((kb) => ({ slug: kb.slug, name: kb.name, documents: kb.documents, createdAt: kb.createdAt.toISOString() })) });
    },
  );
  return router;
}
