-- A page's own claims still pending (claimLinks' first read, once per
-- scraped page): without it that read scanned every discovered page of the
-- task, O(frontier) per page, which on an unchanged recrawl (hundreds of
-- pages queued at once) was most of PostgreSQL's work. Partial: a page
-- leaves it when it is processed, so it holds only the frontier.
CREATE INDEX "task_pages_pending_by_parent" ON "task_pages"("task_id", "parent_url") WHERE "status" = 'discovered';
