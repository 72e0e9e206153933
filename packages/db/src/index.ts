export { createDb, poolOf, type Db } from './client.ts';
export { isDatabaseUnavailable } from './database-unavailable.ts';
export { API_KEY_PREFIX, deterministicUuid, generateApiKey, hashApiKey } from './ids.ts';
export { applyMigrations, ensureDatabase, MIGRATIONS_DIR, type MigrationResult } from './migrate.ts';
export {
  API_KEY_SCOPES,
  TenantNameTakenError,
  TenantRepository,
  type ApiKeyScope,
  type ApiKeyView,
  type Principal,
  type TenantPurgeView,
  type TenantView,
} from './tenant.repository.ts';
export {
  effectiveLimits,
  TenantLimitsCache,
  TENANT_LIMITS_CACHE_MS,
  TENANT_TIERS,
  TIER_LIMITS,
  type EffectiveLimits,
  type TenantLimits,
  type TenantTier,
} from './tenant-limits.ts';
export { TaskRepository } from './task.repository.ts';
export type { PageSettlement, PageStatusExtra } from './page-status.ts';
export { type RunReport, type StopReason, type TaskProgress, type TaskView } from './task-run.repository.ts';
export {
  ACTIVE_TASK_STATES,
  crawlScopePrefixes,
  type CrawlParams,
  type IngestParams,
  type IngestProgress,
  type IngestResult,
  type PageChange,
  type PageStatus,
  type TaskState,
  type TaskType,
} from './task-types.ts';
export type { ContentType } from './content-type.ts';
export {
  DocumentRepository,
  type ChunkInput,
  type ChunkWithDocument,
  type PageValidators,
  type RemovedDocuments,
  type StoredPage,
  type StoreResult,
} from './document.repository.ts';
export { planChunks, type ExistingChunk, type PlannedChunk } from './chunk-reuse.ts';
export { IdempotencyRepository, IDEMPOTENCY_TTL_MS, type IdempotencyClaim, type IdempotencyRequest } from './idempotency.repository.ts';
export {
  ScheduleRunRepository,
  type ScheduleRunStatus,
  type ScheduleRunSummary,
  type ScheduleRunView,
  type ScheduleTrigger,
} from './schedule-run.repository.ts';
export { SearchLogRepository, type SearchAnalytics, type SearchLogEntry } from './search-log.repository.ts';
export { hasDocumentOnlyFilters, type SearchScope } from './search-scope.ts';
export { RecordRepository, type ChunkToEmbed } from './record.repository.ts';
export { RecordSyncRefused, syncRefusal, type RecordSyncState } from './record-sync.ts';
export { RecordWriter, type PreparedRecord, type RecordWriteResult, type RecordWriteScope } from './record-writer.ts';
export type { CaseFields } from './case-fields.ts';
export {
  CaseRepository,
  type CaseListFilter,
  type CaseSyncBatch,
  type CaseSyncPlan,
  type CaseSyncPrepare,
  type CaseUpsertCounts,
  type CaseView,
  type PendingCase,
} from './case.repository.ts';
export {
  KnowledgeRepository,
  articleUrl,
  type ArticleAuthor,
  type ArticleStatus,
  type ArticleWrite,
  type ArticleWriteResult,
  type GeneratedArticleState,
  type KnowledgeArticleView,
  type KnowledgeCase,
  type LinkedCaseView,
} from './knowledge.repository.ts';
export { copyField, copyRows, type CopyValue } from './copy-rows.ts';
export {
  SourceRepository,
  runParams,
  type RunTrigger,
  type SourceSchedule,
  type SourceSettings,
  type SourceView,
  type StartRunResult,
} from './source.repository.ts';
export { WebhookRepository, DELIVERIES_KEPT, type DeliveryAttempt, type DeliveryView } from './webhook.repository.ts';
export { webhookView, asWebhook, type WebhookConfig, type WebhookEventName, type WebhookView } from './webhook-config.ts';
export { TenantWorkRepository, type TenantWorkDone, type TenantWorkInFlight } from './tenant-work.repository.ts';
