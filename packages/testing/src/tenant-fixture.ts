import { createDb, TenantRepository, type Db } from '@kbflow/db';
import { createTestDatabase, type TestDatabase } from './databases.ts';

/**
 * What most integration tests start from: a fresh migrated database, a
 * client on it, one tenant with an API key, and that tenant's default
 * knowledge base.
 */
export interface TenantFixture {
  database: TestDatabase;
  db: Db;
  tenants: TenantRepository;
  tenantId: string;
  knowledgeBaseId: string;
  /** Disconnects `db` and drops the database. */
  close(): Promise<void>;
}

/**
 * Creates a {@link TenantFixture} for one test file. The tenant is named
 * `name`; its key is `apiKey` (default `<name>-key-123`).
 */
export async function createTenantFixture(name: string, options: { apiKey?: string; poolSize?: number } = {}): Promise<TenantFixture> {
  const database = await createTestDatabase();
  const db = createDb(database.url, options.poolSize === undefined ? {} : { poolSize: options.poolSize });
  const tenants = new TenantRepository(db);
  const tenantId = await tenants.ensureTenantWithKey(name, options.apiKey ?? `${name}-key-123`);
  const knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, 'default');
  return {
    database,
    db,
    tenants,
    tenantId,
    knowledgeBaseId,
    close: async () => {
      await db.$disconnect();
      await database.drop();
    },
  };
}
