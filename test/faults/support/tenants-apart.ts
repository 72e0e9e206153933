import { expect } from '@jest/globals';
import type { FaultStack, Tenant } from './fault-stack.ts';

export interface TenantData {
  tenant: Tenant;
  /** A question its own data answers (and the other tenants' do not). */
  query: string;
  /** Its tasks (another tenant must get 404 for each). */
  taskIds: string[];
}

export interface TenantsApartSummary {
  /** Per tenant: documents it owns, and the results its own question got. */
  [tenant: string]: { documents: number; ownResults: number };
}

/**
 * Asserts that tenants sharing a stack (and a knowledge-base slug) see only
 * their own data after the fault: each tenant's search, for its own question
 * and for every other tenant's, returns only documents it owns (and its own
 * question finds some), and every other tenant's task is a 404 to it.
 */
export async function assertTenantsApart(stack: FaultStack, tenants: TenantData[]): Promise<TenantsApartSummary> {
  const summary: TenantsApartSummary = {};
  const owned = new Map<string, Set<string>>();
  for (const { tenant } of tenants) {
    const docs = await stack.db.document.findMany({ where: { tenantId: tenant.id }, select: { id: true } });
    owned.set(tenant.id, new Set(docs.map((d) => d.id)));
  }
  for (const { tenant, query } of tenants) {
    const own = owned.get(tenant.id)!;
    expect(own.size).toBeGreaterThan(0);
    let ownResults = 0;
    for (const asked of tenants) {
      const res = await stack.api('POST', '/v1/search', { query: asked.query, topK: 50 }, tenant.key);
      expect(res.status).toBe(200);
      const ids: string[] = res.json.results.map((r: { documentId: string }) => r.documentId);
      const foreign = ids.filter((id) => !own.has(id));
      expect({ tenant: tenant.name, asked: asked.tenant.name, foreign }).toEqual({ tenant: tenant.name, asked: asked.tenant.name, foreign: [] });
      if (asked.query === query) ownResults = ids.length;
    }
    expect({ tenant: tenant.name, ownResults: ownResults > 0 }).toEqual({ tenant: tenant.name, ownResults: true });
    for (const other of tenants.filter((t) => t.tenant.id !== tenant.id)) {
      for (const taskId of other.taskIds) {
        const res = await stack.api('GET', `/v1/tasks/${taskId}`, undefined, tenant.key);
        expect({ tenant: tenant.name, task: taskId, status: res.status }).toEqual({ tenant: tenant.name, task: taskId, status: 404 });
      }
    }
    summary[tenant.name] = { documents: own.size, ownResults };
  }
  return summary;
}

/** Support tickets with words no Python documentation page has, for a second tenant's data. */
export function ticketRecords(count: number, label: string): { id: string; title: string; body: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${label}-${i}`,
    title: `Zephyrine printer ticket ${i}`,
    body: `The zephyrine printer jams on tray ${i % 7} after ${i % 13} pages; the spooler of ${label} restarts it.`,
  }));
}
