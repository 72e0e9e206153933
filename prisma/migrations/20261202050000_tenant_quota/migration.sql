-- A crawl cut by its tenant's documents-per-knowledge-base quota (issue 12
-- item 2, docs/tenancy.md): its run report's stopReason is then `quota`.
ALTER TABLE "tasks" ADD COLUMN "quota_reached" BOOLEAN NOT NULL DEFAULT false;
