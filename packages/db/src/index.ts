export { createDb, type Db } from './client.ts';
export { deterministicUuid, hashApiKey } from './ids.ts';
export { applyMigrations, ensureDatabase, MIGRATIONS_DIR, type MigrationResult } from './migrate.ts';
export { TenantRepository, type Principal } from './tenant.repository.ts';
export {
  TaskRepository,
  type CrawlParams,
  type PageStatus,
  type TaskProgress,
  type TaskState,
  type TaskType,
  type TaskView,
} from './task.repository.ts';
export { DocumentRepository, type ChunkInput, type ChunkWithDocument, type ContentType, type StoreResult } from './document.repository.ts';
export { IdempotencyRepository, IDEMPOTENCY_TTL_MS, type IdempotencyClaim, type IdempotencyRequest } from './idempotency.repository.ts';
