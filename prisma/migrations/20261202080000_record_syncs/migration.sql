-- mode=full across several requests (kbflow issue 11, item 4): a record sync
-- is the batches of one upload that a client sends with the same `sync` id.
-- `record_syncs` is its state (its knowledge base and source, the invalid
-- rows or rejected batches seen so far, open / finished / expired), keyed by
-- tenant and the client's id so that two tenants' ids never meet;
-- `record_sync_urls` holds the record URLs its batches named, until the final
-- batch deletes the source's records not among them (docs/recrawls.md).
CREATE TABLE "record_syncs" (
    "tenant_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "knowledge_base_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'open',
    "batches" INTEGER NOT NULL DEFAULT 0,
    "invalid" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "record_syncs_pkey" PRIMARY KEY ("tenant_id", "id")
);

CREATE INDEX "record_syncs_updated_at_idx" ON "record_syncs"("updated_at");

ALTER TABLE "record_syncs" ADD CONSTRAINT "record_syncs_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "record_syncs" ADD CONSTRAINT "record_syncs_knowledge_base_id_fkey" FOREIGN KEY ("knowledge_base_id") REFERENCES "knowledge_bases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "record_sync_urls" (
    "tenant_id" UUID NOT NULL,
    "sync_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,

    CONSTRAINT "record_sync_urls_pkey" PRIMARY KEY ("tenant_id", "sync_id", "url")
);

ALTER TABLE "record_sync_urls" ADD CONSTRAINT "record_sync_urls_sync_fkey" FOREIGN KEY ("tenant_id", "sync_id") REFERENCES "record_syncs"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
