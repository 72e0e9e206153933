import type { TenantLimits, TenantTier } from './tenant.repository.ts';

/** Every limit of a tenant, after its per-tenant overrides. */
export type EffectiveLimits = Required<TenantLimits>;

/**
 * The seed's four limits per tier (kbflow issue 12 item 2), the one table
 * in code; docs/tenancy.md shows the same numbers. Starter is a trial or a
 * small team, enterprise a tenant the operator sized the cluster for.
 *
 * - maxConcurrentProcessing: the tenant's scrape and embed jobs running at
 *   once across every worker replica (each queue counted on its own);
 * - maxDocumentsPerKnowledgeBase: documents one knowledge base may hold;
 * - maxApiCallsPerHour: authenticated /v1 requests per rolling hour window;
 * - maxVectorOperationsPerMinute: searches, queries and embed calls per minute.
 */
export const TIER_LIMITS: Readonly<Record<TenantTier, EffectiveLimits>> = {
  starter: { maxConcurrentProcessing: 4, maxDocumentsPerKnowledgeBase: 1_000, maxApiCallsPerHour: 3_600, maxVectorOperationsPerMinute: 120 },
  professional: { maxConcurrentProcessing: 16, maxDocumentsPerKnowledgeBase: 25_000, maxApiCallsPerHour: 36_000, maxVectorOperationsPerMinute: 1_200 },
  enterprise: { maxConcurrentProcessing: 64, maxDocumentsPerKnowledgeBase: 500_000, maxApiCallsPerHour: 360_000, maxVectorOperationsPerMinute: 12_000 },
};

/** The tier's limits with the tenant's overrides on top (an override always wins, 0 included). */
export function effectiveLimits(tier: TenantTier, overrides: TenantLimits | null | undefined): EffectiveLimits {
  const base = TIER_LIMITS[tier] ?? TIER_LIMITS.starter;
  const limits = { ...base };
  for (const key of Object.keys(base) as (keyof EffectiveLimits)[]) {
    const value = overrides?.[key];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) limits[key] = value;
  }
  return limits;
}
