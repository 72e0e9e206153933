import { PermanentError } from '@kbflow/errors';
import { Prisma } from './generated/client.ts';
import type { Db } from './client.ts';
import { generateApiKey, hashApiKey } from './ids.ts';
import { effectiveLimits, type EffectiveLimits, type TenantLimits, type TenantTier } from './tenant-limits.ts';

/** What a key may do: `read` (search, query, GET), `write` (submit work), `admin` (every tenant, /v1/admin). */
export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface Principal {
  tenantId: string;
  apiKeyId: string;
  /** Holds the `admin` scope (kept beside `scopes` for the routes that only ask this). */
  isAdmin: boolean;
  scopes: ApiKeyScope[];
  /** After this the key is refused, even from a cache. */
  expiresAt?: Date | undefined;
  /** The tenant's limits (tier and overrides) as of the lookup; cached with the key. */
  limits: EffectiveLimits;
}

export interface TenantView {
  id: string;
  name: string;
  tier: TenantTier;
  limits: TenantLimits | null;
  createdAt: Date;
  /** Set while the tenant is being purged. */
  deletedAt: Date | null;
}

export interface ApiKeyView {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface TenantPurgeView {
  id: string;
  tenantId: string;
  tenantName: string;
  status: 'running' | 'completed' | 'failed';
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** A tenant name that is already taken. */
export class TenantNameTakenError extends PermanentError {
  constructor(name: string) {
    super('tenant_name_taken', `a tenant named ${name} already exists`, { status: 409 });
  }
}

const tenantView = (row: { id: string; name: string; tier: string; limits: Prisma.JsonValue; createdAt: Date; deletedAt: Date | null }): TenantView => ({
  id: row.id,
  name: row.name,
  tier: row.tier as TenantTier,
  limits: (row.limits ?? null) as TenantLimits | null,
  createdAt: row.createdAt,
  deletedAt: row.deletedAt,
});

const keyView = (row: {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}): ApiKeyView => ({
  id: row.id,
  tenantId: row.tenantId,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes as ApiKeyScope[],
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  lastUsedAt: row.lastUsedAt,
  revokedAt: row.revokedAt,
});

/** Tenants, their API keys and knowledge bases. */
export class TenantRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** The tenant a presented key belongs to, or undefined for an unknown, revoked or expired key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    return this.authenticateHash(hashApiKey(key));
  }

  /** {@link authenticate} from the key's hash (the auth cache holds hashes, never keys). */
  async authenticateHash(keyHash: string): Promise<Principal | undefined> {
    const row = await this.db.apiKey.findUnique({ where: { keyHash }, include: { tenant: { select: { deletedAt: true, tier: true, limits: true } } } });
    if (!row || row.revokedAt || row.tenant.deletedAt) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
    const scopes = row.scopes as ApiKeyScope[];
    const limits = effectiveLimits(row.tenant.tier as TenantTier, row.tenant.limits as TenantLimits | null);
    return {
      tenantId: row.tenantId,
      apiKeyId: row.id,
      isAdmin: row.isAdmin || scopes.includes('admin'),
      scopes,
      expiresAt: row.expiresAt ?? undefined,
      limits,
    };
  }

  /** A tenant's limits (tier and overrides); the tier's defaults of `starter` for a tenant that is gone. */
  async limitsOf(tenantId: string): Promise<EffectiveLimits> {
    const row = await this.db.tenant.findUnique({ where: { id: tenantId }, select: { tier: true, limits: true } });
    return effectiveLimits((row?.tier ?? 'starter') as TenantTier, (row?.limits ?? null) as TenantLimits | null);
  }

  /**
   * Bootstraps a key given by the environment: creates (or finds) the tenant
   * and registers the key. Idempotent, and never un-revokes: a key revoked
   * through the API stays revoked however often the process restarts with it
   * in its environment (kbflow issue 12). Returns the tenant id and whether
   * the key was revoked.
   */
  async bootstrapKey(
    tenantName: string,
    key: string,
    opts: { isAdmin?: boolean; keyName?: string; tier?: TenantTier } = {},
  ): Promise<{ tenantId: string; revoked: boolean }> {
    // The tier applies when the tenant is created: a tier changed through the API stays.
    const tenant = await this.db.tenant.upsert({
      where: { name: tenantName },
      create: { name: tenantName, ...(opts.tier ? { tier: opts.tier } : {}) },
      update: {},
    });
    const hash = hashApiKey(key);
    const scopes: ApiKeyScope[] = opts.isAdmin ? ['read', 'write', 'admin'] : ['read', 'write'];
    const row = await this.db.apiKey.upsert({
      where: { keyHash: hash },
      create: { tenantId: tenant.id, name: opts.keyName ?? 'default', keyHash: hash, isAdmin: opts.isAdmin ?? false, scopes, prefix: key.slice(0, 4) },
      // Scopes follow the environment's role; revokedAt is deliberately left alone.
      update: { isAdmin: opts.isAdmin ?? false, scopes },
    });
    return { tenantId: tenant.id, revoked: row.revokedAt !== null };
  }

  /** {@link bootstrapKey}, returning only the tenant id (tests and benchmarks seed tenants with it). */
  async ensureTenantWithKey(tenantName: string, key: string, opts: { isAdmin?: boolean; keyName?: string; tier?: TenantTier } = {}): Promise<string> {
    return (await this.bootstrapKey(tenantName, key, opts)).tenantId;
  }

  /** Creates a tenant; throws {@link TenantNameTakenError} when the name is taken. */
  async createTenant(input: { name: string; tier: TenantTier; limits?: TenantLimits | null }): Promise<TenantView> {
    try {
      const row = await this.db.tenant.create({
        data: { name: input.name, tier: input.tier, limits: input.limits ? (input.limits as Prisma.InputJsonValue) : Prisma.DbNull },
      });
      return tenantView(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new TenantNameTakenError(input.name);
      throw error;
    }
  }

  /** Every tenant by name, purged ones excluded (being purged ones included, with `deletedAt`). */
  async listTenants(): Promise<TenantView[]> {
    const rows = await this.db.tenant.findMany({ orderBy: { name: 'asc' } });
    return rows.map(tenantView);
  }

  async getTenant(id: string): Promise<TenantView | undefined> {
    const row = await this.db.tenant.findUnique({ where: { id } });
    return row ? tenantView(row) : undefined;
  }

  /** Changes tier and/or limit overrides (null clears them); undefined when there is no such tenant or it is being purged. */
  async updateTenant(id: string, patch: { tier?: TenantTier; limits?: TenantLimits | null }): Promise<TenantView | undefined> {
    const data: Prisma.TenantUpdateManyMutationInput = {};
    if (patch.tier !== undefined) data.tier = patch.tier;
    if (patch.limits !== undefined) data.limits = patch.limits === null ? Prisma.DbNull : (patch.limits as Prisma.InputJsonValue);
    const { count } = await this.db.tenant.updateMany({ where: { id, deletedAt: null }, data });
    return count === 0 ? undefined : this.getTenant(id);
  }

  /** Issues a key for a live tenant: the key itself is in the result and nowhere else. Undefined when the tenant does not exist. */
  async createKey(
    tenantId: string,
    input: { name: string; scopes: ApiKeyScope[]; expiresAt?: Date | undefined },
  ): Promise<{ key: string; view: ApiKeyView } | undefined> {
    const tenant = await this.db.tenant.findFirst({ where: { id: tenantId, deletedAt: null }, select: { id: true } });
    if (!tenant) return undefined;
    const { key, hash, prefix } = generateApiKey();
    const scopes = API_KEY_SCOPES.filter((s) => input.scopes.includes(s));
    const row = await this.db.apiKey.create({
      data: { tenantId, name: input.name, keyHash: hash, prefix, scopes, isAdmin: scopes.includes('admin'), expiresAt: input.expiresAt ?? null },
    });
    return { key, view: keyView(row) };
  }

  /** A tenant's keys, newest first, revoked ones included (with `revokedAt`). */
  async listKeys(tenantId: string): Promise<ApiKeyView[]> {
    const rows = await this.db.apiKey.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
    return rows.map(keyView);
  }

  /**
   * Revokes a key of the tenant; the revocation is a timestamp on the row, so
   * no restart and no environment variable brings the key back. Undefined
   * when the tenant has no such key.
   */
  async revokeKey(tenantId: string, keyId: string): Promise<ApiKeyView | undefined> {
    await this.db.apiKey.updateMany({ where: { id: keyId, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
    const row = await this.db.apiKey.findFirst({ where: { id: keyId, tenantId } });
    return row ? keyView(row) : undefined;
  }

  /** Records when keys were last used, one statement for the whole batch (the API flushes it every few seconds). */
  async recordKeyUse(lastUsed: ReadonlyMap<string, Date>): Promise<void> {
    if (lastUsed.size === 0) return;
    const values = [...lastUsed].map(([id, at]) => Prisma.sql`(${id}::uuid, ${at}::timestamp)`);
    await this.db
      .$executeRaw`UPDATE "api_keys" AS k SET "last_used_at" = v.at FROM (VALUES ${Prisma.join(values)}) AS v(id, at) WHERE k."id" = v.id AND (k."last_used_at" IS NULL OR k."last_used_at" < v.at)`;
  }

  /**
   * Starts the purge of a tenant: marks it deleted (its keys stop working
   * at once) and records the purge. Undefined when there is no such tenant;
   * the running purge when one is already under way.
   */
  async startPurge(tenantId: string): Promise<TenantPurgeView | undefined> {
    return this.db.$transaction(async (tx) => {
      const tenant = await tx.tenant.findUnique({ where: { id: tenantId } });
      if (!tenant) return undefined;
      const running = await tx.tenantPurge.findFirst({ where: { tenantId, status: 'running' } });
      if (running) return running as TenantPurgeView;
      await tx.tenant.update({ where: { id: tenantId }, data: { deletedAt: tenant.deletedAt ?? new Date() } });
      return (await tx.tenantPurge.create({ data: { tenantId, tenantName: tenant.name } })) as TenantPurgeView;
    });
  }

  /** The ids of a tenant's sources (their job schedulers go before the rows, in a purge). */
  async sourceIds(tenantId: string): Promise<string[]> {
    return (await this.db.source.findMany({ where: { tenantId }, select: { id: true } })).map((s) => s.id);
  }

  /** Deletes the tenant's row; every table with a tenant id cascades from it. */
  async deleteTenantRows(tenantId: string): Promise<void> {
    await this.db.tenant.deleteMany({ where: { id: tenantId } });
  }

  async finishPurge(purgeId: string, error?: string): Promise<void> {
    await this.db.tenantPurge.update({
      where: { id: purgeId },
      data: { status: error ? 'failed' : 'completed', error: error ?? null, finishedAt: new Date() },
    });
  }

  async getPurge(tenantId: string): Promise<TenantPurgeView | undefined> {
    const row = await this.db.tenantPurge.findFirst({ where: { tenantId }, orderBy: { startedAt: 'desc' } });
    return (row ?? undefined) as TenantPurgeView | undefined;
  }

  /** Purges that were running when a process stopped (resumed at start). */
  async runningPurges(): Promise<TenantPurgeView[]> {
    return (await this.db.tenantPurge.findMany({ where: { status: 'running' } })) as TenantPurgeView[];
  }

  /** The id of a tenant's knowledge base by slug, created on first use. */
  async knowledgeBaseId(tenantId: string, slug: string): Promise<string> {
    const kb = await this.db.knowledgeBase.upsert({
      where: { tenantId_slug: { tenantId, slug } },
      create: { tenantId, slug, name: slug },
      update: {},
    });
    return kb.id;
  }

  /** The id of an existing knowledge base, or undefined. */
  async findKnowledgeBaseId(tenantId: string, slug: string): Promise<string | undefined> {
    const kb = await this.db.knowledgeBase.findUnique({ where: { tenantId_slug: { tenantId, slug } } });
    return kb?.id;
  }

  /** A tenant's knowledge bases, by slug, with how many documents each holds. */
  async listKnowledgeBases(tenantId: string): Promise<{ slug: string; name: string; documents: number; createdAt: Date }[]> {
    const rows = await this.db.knowledgeBase.findMany({
      where: { tenantId },
      orderBy: { slug: 'asc' },
      select: { slug: true, name: true, createdAt: true, _count: { select: { documents: true } } },
    });
    return rows.map((r) => ({ slug: r.slug, name: r.name, documents: r._count.documents, createdAt: r.createdAt }));
  }
}
