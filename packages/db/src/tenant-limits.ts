/** The tiers a tenant can be on; their limits are TIER_LIMITS. */
export const TENANT_TIERS = ['starter', 'professional', 'enterprise'] as const;
export type TenantTier = (typeof TENANT_TIERS)[number];

/** Per-tenant overrides of the tier's limits; a missing key means the tier's value. */
export interface TenantLimits {
  maxConcurrentProcessing?: number;
  maxDocumentsPerKnowledgeBase?: number;
  maxApiCallsPerHour?: number;
  maxVectorOperationsPerMinute?: number;
}

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

/** How long a worker trusts a tenant's limits: a changed tier or override applies within this. */
export const TENANT_LIMITS_CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * Tenants' limits as the workers read them: one PostgreSQL read per tenant
 * every {@link TENANT_LIMITS_CACHE_MS}, at most 10,000 tenants remembered
 * (the oldest entry goes first). A Map in insertion order is the LRU here:
 * a re-read entry is deleted and set again.
 */
export class TenantLimitsCache {
  readonly #read: (tenantId: string) => Promise<EffectiveLimits>;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; limits: Promise<EffectiveLimits> }>();

  constructor(source: { limitsOf(tenantId: string): Promise<EffectiveLimits> }, ttlMs = TENANT_LIMITS_CACHE_MS) {
    this.#read = (id) => source.limitsOf(id);
    this.#ttlMs = ttlMs;
  }

  /** The tenant's limits, at most `ttlMs` old. */
  limitsOf(tenantId: string): Promise<EffectiveLimits> {
    const hit = this.#entries.get(tenantId);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.limits;
    this.#entries.delete(tenantId);
    if (this.#entries.size >= CACHE_MAX) this.#entries.delete(this.#entries.keys().next().value!);
    const limits = this.#read(tenantId);
    // A failed read is not remembered.
    limits.catch(() => this.#entries.delete(tenantId));
    this.#entries.set(tenantId, { at: Date.now(), limits });
    return limits;
  }
}
