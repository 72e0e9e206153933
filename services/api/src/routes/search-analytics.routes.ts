import type { SearchLogRepository, TenantRepository } from '@kbflow/db';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { searchAnalytics } from './responses.ts';
import { searchAnalyticsQuery } from './schemas.ts';

export interface SearchAnalyticsDeps {
  tenants: TenantRepository;
  searchLogs: SearchLogRepository;
}

const HOUR_MS = 60 * 60 * 1000;
/** The window when none is given. */
const DEFAULT_WINDOW_MS = 24 * HOUR_MS;
/** The widest window: the hourly series stays a few thousand points at most. */
const MAX_WINDOW_DAYS = 92;

/**
 * `GET /v1/search/analytics?since=&until=&knowledgeBase=`: the caller's
 * tenant's searches and queries in [since, until) (the last 24 hours by
 * default), of one knowledge base or all.
 */
export function searchAnalyticsRoutes(deps: SearchAnalyticsDeps): ApiRoutes {
  const router = new ApiRoutes();

  router.get(
    '/search/analytics',
    {
      operationId: 'searchAnalytics',
      summary: "The tenant's searches and queries over a window",
      tags: ['query'],
      query: searchAnalyticsQuery,
      responses: { 200: { description: 'counts, latency percentiles, top and zero-hit queries, an hourly series', schema: searchAnalytics } },
      errors: { 404: ['knowledge_base_not_found'] },
      example: {},
    },
    async (req, res, input) => {
      const q = input.query();
      const tenantId = req.principal!.tenantId;
      const until = q.until ? new Date(q.until) : new Date();
      const since = q.since ? new Date(q.since) : new Date(until.getTime() - DEFAULT_WINDOW_MS);
      if (since >= until) throw new ApiError(400, 'invalid_field', 'must be before until (which defaults to now)', { field: 'since' });
      if (until.getTime() - since.getTime() > MAX_WINDOW_DAYS * 24 * HOUR_MS) {
        throw new ApiError(400, 'invalid_field', `the window may span at most ${MAX_WINDOW_DAYS} days`, { field: 'since' });
      }
      let knowledgeBaseId: string | undefined;
      if (q.knowledgeBase) {
        knowledgeBaseId = await deps.tenants.findKnowledgeBaseId(tenantId, q.knowledgeBase);
        if (!knowledgeBaseId) throw new ApiError(404, 'knowledge_base_not_found', `no knowledge base "${q.knowledgeBase}"`, { field: 'knowledgeBase' });
      }
      const analytics = await deps.searchLogs.analytics({ tenantId, knowledgeBaseId, since, until });
      res.json({ since: since.toISOString(), until: until.toISOString(), ...(q.knowledgeBase ? { knowledgeBase: q.knowledgeBase } : {}), ...analytics });
    },
  );

  return router;
}
