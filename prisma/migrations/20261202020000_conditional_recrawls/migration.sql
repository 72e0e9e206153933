-- Cheap recrawls and deletions (issue 11 items 3 and 4, docs/recrawls.md).
--
-- A page's validators, sent back as If-None-Match / If-Modified-Since on
-- the next crawl, and its outgoing links (normalized, before any crawl's
-- scope filter), so that a page answering 304 still expands the frontier
-- without its body being downloaded or parsed. NULL links: stored before
-- this migration; such a page is fetched unconditionally once.
ALTER TABLE "documents" ADD COLUMN "etag" TEXT;
ALTER TABLE "documents" ADD COLUMN "last_modified" TEXT;
ALTER TABLE "documents" ADD COLUMN "links" TEXT[];

-- What a crawl found for each page: new | changed | not-modified (a 304) |
-- unchanged (same content hash) | deleted (404/410 or redirected out of
-- scope, its document removed); and the HTTP status that ended a page.
ALTER TABLE "task_pages" ADD COLUMN "http_status" INTEGER;

-- deleteUnreached: how many documents a complete crawl removed because it
-- did not reach them, or why it removed none.
ALTER TABLE "tasks" ADD COLUMN "deleted_unreached" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "tasks" ADD COLUMN "prune_skipped" TEXT;
