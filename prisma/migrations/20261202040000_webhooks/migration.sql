-- Webhooks (issue 11 item 7, docs/webhooks.md): a source's or a one-shot
-- crawl's `{"url", "events", "secret"}`, and the log of delivery attempts
-- (the newest 20 per target: a source, or a crawl task).
ALTER TABLE "sources" ADD COLUMN "webhook" JSONB;
ALTER TABLE "tasks" ADD COLUMN "webhook" JSONB;

CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "target_id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "webhook_deliveries_target_id_created_at_idx" ON "webhook_deliveries"("target_id", "created_at");
CREATE INDEX "webhook_deliveries_task_id_created_at_idx" ON "webhook_deliveries"("task_id", "created_at");

ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
