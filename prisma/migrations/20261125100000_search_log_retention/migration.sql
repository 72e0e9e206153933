-- Retention deletes search logs by age across tenants; without this index
-- each run scanned the whole table.
CREATE INDEX "search_logs_created_at_idx" ON "search_logs"("created_at");
