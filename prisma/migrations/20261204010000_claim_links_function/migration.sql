-- claimLinks' locked step (packages/db/src/claim-links.ts) in one round
-- trip. It used to be an interactive transaction of four to six statements
-- sent one at a time, each waiting on the scraper's busy event loop, and
-- the task's row stayed locked for all of them: on an unchanged recrawl of
-- the SQLite documentation, a new crawl's first pages queued 30-50 ms each
-- for that lock. The function runs the same statements server-side, so the
-- lock is held for their execution only.
--
-- A link is probed as a scalar subquery on (task_id, url), never with NOT
-- EXISTS, as in claimLinks' first read (see SEEN there): without
-- statistics for the task, PostgreSQL plans NOT EXISTS as an anti join
-- that compares every link with every page of the task.
--
-- Semantics are those of the statements it replaces. Under READ COMMITTED
-- every statement of a VOLATILE function takes a fresh snapshot, so the
-- insert after the row lock still sees every page the previous holder
-- committed (what makes maxPages exact across replicas).
--
-- Arguments: the task, its tenant, the claiming page, the claims' depth,
-- the links the lock-free read found new (in page order), the crawl's
-- maxPages and the tenant's documents-per-knowledge-base quota (computed
-- by the caller from the tier and its overrides: effectiveLimits).
-- Returns the claiming page's pending claims in claim order, or NULL when
-- the task does not exist or is being cancelled.
CREATE FUNCTION kbflow_claim_links(
  p_task uuid, p_tenant uuid, p_parent text, p_depth integer, p_urls text[], p_max_pages integer, p_max_documents integer
) RETURNS text[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t record;
  budget integer;
  known text[];
  room integer;
  urls text[] := p_urls;
BEGIN
  SELECT discovered, state, knowledge_base_id INTO t FROM tasks WHERE id = p_task FOR UPDATE;
  -- A cancelled crawl claims nothing more (its unclaimed pages are never queued).
  IF NOT FOUND OR t.state IN ('cancelling', 'cancelled') THEN
    RETURN NULL;
  END IF;
  budget := greatest(0, p_max_pages - t.discovered);

  -- The tenant's quota, only while there is budget. A link already a
  -- document of the knowledge base, or already a page of this crawl, costs
  -- nothing; a new one costs one of the room left: the quota less the
  -- knowledge base's documents and this crawl's pages claimed but not yet
  -- stored. The exact count of the latter is paid only when a bound
  -- (every claimed page counted as pending) leaves too little room.
  IF budget > 0 THEN
    known := ARRAY(
      SELECT d.url FROM documents d WHERE d.knowledge_base_id = t.knowledge_base_id AND d.url = ANY(p_urls)
      UNION SELECT p.url FROM task_pages p WHERE p.task_id = p_task AND p.url = ANY(p_urls));
    IF NOT (p_urls <@ known) THEN
      room := p_max_documents - (SELECT count(*)::integer FROM documents WHERE knowledge_base_id = t.knowledge_base_id);
      IF room - t.discovered < cardinality(p_urls) - cardinality(known) THEN
        room := room - (SELECT count(*)::integer FROM task_pages p WHERE p.task_id = p_task AND p.status = 'discovered'
          AND (SELECT true FROM documents d WHERE d.knowledge_base_id = t.knowledge_base_id AND d.url = p.url) IS NULL);
      END IF;
      -- Known links all stay; new ones in page order while room is left.
      urls := ARRAY(
        SELECT u FROM (
          SELECT x.u, x.ord, k.u IS NOT NULL AS free,
                 count(*) FILTER (WHERE k.u IS NULL) OVER (ORDER BY x.ord) AS nth
            FROM unnest(p_urls) WITH ORDINALITY AS x(u, ord)
            LEFT JOIN (SELECT DISTINCT unnest(known) AS u) k ON k.u = x.u) s
        WHERE free OR nth <= room ORDER BY ord);
      IF cardinality(urls) < cardinality(p_urls) THEN
        UPDATE tasks SET quota_reached = true WHERE id = p_task AND NOT quota_reached;
      END IF;
    END IF;
  END IF;

  IF budget > 0 AND cardinality(urls) > 0 THEN
    WITH claimed AS (
      INSERT INTO task_pages (task_id, tenant_id, url, depth, parent_url, status, created_at, updated_at)
      SELECT p_task, p_tenant, x.u, p_depth, p_parent, 'discovered', now(), now()
      FROM unnest(urls) WITH ORDINALITY AS x(u, ord)
      WHERE (SELECT true FROM task_pages p WHERE p.task_id = p_task AND p.url = x.u) IS NULL
      ORDER BY x.ord
      LIMIT budget
      ON CONFLICT (task_id, url) DO NOTHING
      RETURNING 1
    )
    UPDATE tasks SET discovered = discovered + (SELECT count(*) FROM claimed)
    WHERE id = p_task AND EXISTS (SELECT 1 FROM claimed);
  END IF;

  -- More links than budget: when some new one was left out, the crawl is
  -- cut by maxPages (its report's stopReason). Only checked then, so a
  -- crawl under its budget pays nothing for it.
  IF cardinality(urls) > budget THEN
    UPDATE tasks SET max_pages_reached = true
    WHERE id = p_task AND NOT max_pages_reached AND EXISTS (
      SELECT 1 FROM unnest(urls) AS x(u)
      WHERE (SELECT true FROM task_pages p WHERE p.task_id = p_task AND p.url = x.u) IS NULL);
  END IF;

  -- The page's own claims still unprocessed: the ones just made and any
  -- an earlier attempt made, so a job that died before queueing loses none.
  RETURN ARRAY(SELECT url FROM task_pages WHERE task_id = p_task AND parent_url = p_parent AND status = 'discovered' ORDER BY id);
END $$;
