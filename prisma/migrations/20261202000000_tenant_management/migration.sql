-- Tenants and keys managed through the API (issue 12 item 1): a tier and
-- limit overrides per tenant, scopes, expiry and last use per key, and the
-- purges of deleted tenants.
ALTER TABLE "tenants" ADD COLUMN "tier" TEXT NOT NULL DEFAULT 'starter',
ADD COLUMN "limits" JSONB,
ADD COLUMN "deleted_at" TIMESTAMP(3);

ALTER TABLE "api_keys" ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT ARRAY['read', 'write']::TEXT[],
ADD COLUMN "prefix" TEXT NOT NULL DEFAULT '',
ADD COLUMN "expires_at" TIMESTAMP(3),
ADD COLUMN "last_used_at" TIMESTAMP(3);

-- Keys from before scopes existed keep what they could do.
UPDATE "api_keys" SET "scopes" = ARRAY['read', 'write', 'admin']::TEXT[] WHERE "is_admin";

CREATE TABLE "tenant_purges" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "tenant_name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "error" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    CONSTRAINT "tenant_purges_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "tenant_purges_tenant_id_idx" ON "tenant_purges"("tenant_id");
