-- Sources (kbflow issue 11): sites crawled on a schedule. A run is a crawl
-- task with source_id set; the report counts come from task_pages.change
-- and task_pages.bytes.
CREATE TABLE "sources" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "knowledge_base_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "schedule" JSONB NOT NULL,
    "include_paths" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "exclude_paths" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "max_pages" INTEGER NOT NULL,
    "max_depth" INTEGER NOT NULL,
    "engine" TEXT NOT NULL,
    "respect_robots" BOOLEAN NOT NULL DEFAULT true,
    "sitemaps" TEXT NOT NULL DEFAULT 'auto',
    "politeness" JSONB,
    "delete_unreached" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sources_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sources_tenant_id_created_at_idx" ON "sources"("tenant_id", "created_at");
ALTER TABLE "sources" ADD CONSTRAINT "sources_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sources" ADD CONSTRAINT "sources_knowledge_base_id_fkey" FOREIGN KEY ("knowledge_base_id") REFERENCES "knowledge_bases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "tasks" ADD COLUMN "source_id" UUID;
ALTER TABLE "tasks" ADD COLUMN "max_pages_reached" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "tasks_source_id_created_at_idx" ON "tasks"("source_id", "created_at");
-- One crawl run of a source in progress at a time, whoever starts it (its
-- schedule on any maintenance replica, or POST /v1/sources/:id/runs): the
-- second insert fails, and the caller skips (schedule) or answers 409.
-- Not expressible in schema.prisma (a partial index).
CREATE UNIQUE INDEX "tasks_one_active_run_per_source" ON "tasks"("source_id") WHERE "source_id" IS NOT NULL AND "type" = 'crawl' AND "state" IN ('queued', 'running', 'cancelling');

ALTER TABLE "task_pages" ADD COLUMN "change" TEXT;
ALTER TABLE "task_pages" ADD COLUMN "bytes" INTEGER;
