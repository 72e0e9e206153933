import type { Db } from './client.ts';
import { hashApiKey } from './ids.ts';

export interface Principal {
  tenantId: string;
  apiKeyId: string;
  isAdmin: boolean;
}

/** Tenants, their API keys and knowledge bases. */
export class TenantRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** The tenant a presented key belongs to, or undefined for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    const row = await this.db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
    if (!row || row.revokedAt) return undefined;
    return { tenantId: row.tenantId, apiKeyId: row.id, isAdmin: row.isAdmin };
  }

  /**
   * Creates (or finds) a tenant and registers a key for it. Idempotent: the
   * key hash is unique, so running it at every start changes nothing.
   */
  async ensureTenantWithKey(tenantName: string, key: string, opts: { isAdmin?: boolean; keyName?: string } = {}): Promise<string> {
    const tenant = await this.db.tenant.upsert({ where: { name: tenantName }, create: { name: tenantName }, update: {} });
    await this.db.apiKey.upsert({
      where: { keyHash: hashApiKey(key) },
      create: { tenantId: tenant.id, name: opts.keyName ?? 'default', keyHash: hashApiKey(key), isAdmin: opts.isAdmin ?? false },
      update: { isAdmin: opts.isAdmin ?? false, revokedAt: null },
    });
    return tenant.id;
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
