import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import { Prisma } from './generated/client.ts';
import { scopeConditions, type SearchScope } from './search-scope.ts';

/**
 * Candidates ranked before the join with `documents`, as a multiple of the
 * result size: room for the scope filters (knowledge base, types, sources,
 * dates) to drop some and still fill the result.
 */
const CANDIDATE_FACTOR = 5;
const MIN_CANDIDATES = 200;
/**
 * A term PostgreSQL's statistics expect in more chunks than this is
 * "common": matching on it alone would rank thousands of chunks.
 */
const COMMON_TERM_ROWS = 1000;
/** Past this many terms the pair query (n·(n-1)/2 pairs) costs more than it saves: the OR query runs alone. */
const MAX_PAIR_TERMS = 16;

interface KeywordHit {
  id: string;
  rank: number;
}

export interface KeywordSearchResult {
  /** Best first. */
  hits: KeywordHit[];
  /**
   * False when the time budget ran out before the stage that would have
   * filled the list: `hits` are then the (fewer) passages of the last stage
   * that finished, still ranked and in scope.
   */
  complete: boolean;
}

/** What can run the ranking statements: the client, or a transaction of it. */
type Queryable = Pick<Db, '$queryRaw'>;

/** PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`. */
const QUERY_CANCELED = '57014';

/** Thrown inside the budgeted transaction to leave it (rolled back) with what the finished stages found. */
class BudgetSpent extends Error {
  readonly hits: KeywordHit[];
  constructor(hits: KeywordHit[]) {
    super('keyword search budget spent');
    this.hits = hits;
  }
}

function isStatementTimeout(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; meta?: { code?: unknown; driverAdapterError?: unknown }; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.code === QUERY_CANCELED || e.meta?.code === QUERY_CANCELED) return true;
    if (/statement timeout/i.test(String((e as { message?: unknown }).message ?? ''))) return true;
    e = (e.meta?.driverAdapterError ?? e.cause) as typeof e;
  }
  return false;
}

interface QueryTerm {
  /** tsquery text of one operand of `plainto_tsquery`, parenthesized (a hyphenated word stays one `'a' <-> 'b'` phrase). */
  text: string;
  /** Chunks expected to contain it, from `pg_stats` (0 when not among the column's most common lexemes). */
  estimatedRows: number;
}

/** How long the lexeme statistics are reused: they only change when (auto-)ANALYZE runs. */
const TERM_STATS_TTL_MS = 10 * 60_000;
const termStats = new WeakMap<Db, { at: number; rows: Promise<Map<string, number>> }>();

/**
 * Expected matching chunks per lexeme: the frequencies ANALYZE keeps for
 * `chunks.search_vector` (`most_common_elems`: the ~1,000 commonest
 * lexemes of its sample) times the table's row estimate. Read from the
 * `pg_stats` view (5-30 ms on a loaded machine, so kept per process for
 * ten minutes); stale only until the next ANALYZE, which is good enough
 * to tell common terms from rare ones.
 */
function lexemeRows(db: Db): Promise<Map<string, number>> {
  const cached = termStats.get(db);
  if (cached && Date.now() - cached.at < TERM_STATS_TTL_MS) return cached.rows;
  const rows = db.$queryRaw<{ elem: string; rows: number }[]>`
    SELECT e.elem, (e.freq * greatest(c.reltuples, 0))::float8 AS rows
    FROM pg_stats s
    JOIN pg_class c ON c.relname = s.tablename AND c.relnamespace = to_regnamespace(s.schemaname)
    CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(elem, freq)
    WHERE s.schemaname = current_schema() AND s.tablename = 'chunks' AND s.attname = 'search_vector'`.then(
    (r) => new Map(r.map((x) => [`'${x.elem}'`, x.rows])),
  );
  termStats.set(db, { at: Date.now(), rows });
  // A failed read is not cached: the next search asks again.
  rows.catch(() => termStats.delete(db));
  return rows;
}

/** The operands of `plainto_tsquery` for `query` (tsquery text, quoted as PostgreSQL prints it) with their expected match counts. */
async function queryTerms(db: Db, query: string): Promise<QueryTerm[]> {
  const [rows, stats] = await Promise.all([db.$queryRaw<{ q: string }[]>`SELECT plainto_tsquery('english', ${query})::text AS q`, lexemeRows(db)]);
  const text = rows[0]?.q ?? '';
  if (text === '') return [];
  return [...new Set(text.split(' & '))].map((term) => ({ text: `(${term})`, estimatedRows: stats.get(term) ?? 0 }));
}

/**
 * Bounded full-text search (kbflow issue 6). The question's words are
 * OR-ed, and a plain OR query over 100,000 chunks matches a large share of
 * them through its commonest words ("bug", "error", "component": 18,000
 * chunks for one question), every one of which had its tsvector read and
 * `ts_rank`ed, then joined with every document (a sequential scan of
 * `documents`): 150-500 ms. A LIMIT on an unranked subset would be cheap
 * but loses the best passages, so instead the match set is narrowed in
 * stages that each keep the passages the full ranking puts on top, and the
 * next stage runs only when one yields fewer than `limit` passages in scope:
 *
 * 1. The selective terms only, when the question has common ones (by
 *    {@link queryTerms}: expected in more than 1,000 chunks) and rare ones:
 *    a passage matching a rare term is what a question's odd words point
 *    to, and the candidates are bounded by the rare terms' frequencies.
 * 2. At least two of the question's terms: the tsquery
 *    `(a & b) | (a & c) | ...`, answered by the GIN index like any other.
 *    `ts_rank` on the OR query (what ranks the result in every stage) sums
 *    the distinct terms matched and damps a term's repeats, so the top of
 *    the full ranking is mostly passages matching two or more terms.
 * 3. The OR query, as before.
 *
 * Stages 1 and 2 can miss a passage matching only common terms (1) or a
 * single term (2) that the full ranking would have placed among the
 * first `limit`. On the benchmark's 100,000 chunks the result's top 10
 * kept 95 % of the full ranking's top 10 at a tenth of the time; on the
 * RHDH question set hit@5 is unchanged (see the retrieval eval test).
 *
 * In every stage, the matches are ranked in `chunks` alone and only the
 * best `limit × 5` (≥ 200) are joined with `documents` (by primary key) for
 * the scope filters. That part is exact: when fewer than `limit` of those
 * pass the filters and candidates were cut, the uncut query runs, so a
 * narrow filter still finds its passages.
 *
 * With `budgetMs`, the search stops when that time is spent (a stage's
 * statement is cancelled by `statement_timeout`) and returns the ranked
 * passages of the stages that finished, `complete: false`. The staging
 * keeps most questions far under a budget, but a question made only of
 * common words still reaches stage 2 or 3 over thousands of matches
 * (60-270 ms for 1 question in 20 on the benchmark's index): hybrid
 * retrieval, whose vector half answers anyway, caps that tail this way.
 */
export async function boundedKeywordSearch(
  db: Db,
  scope: SearchScope,
  query: string,
  limit: number,
  opts: { budgetMs?: number } = {},
): Promise<KeywordSearchResult> {
  const terms = await queryTerms(db, query);
  if (terms.length === 0) return { hits: [], complete: true };
  if (opts.budgetMs === undefined) return { hits: await stagedSearch(db, scope, terms, limit, async (run) => run(db)), complete: true };
  // Each stage runs with `statement_timeout` set to what is left of the
  // budget, in a transaction of its own so the setting ends with it (SET
  // LOCAL on a pooled connection). A stage cancelled by the timeout ends
  // the search with the hits of the stage before it. Measured on the
  // benchmark's 100,000 chunks: the budget costs 3 round trips a stage.
  const deadline = performance.now() + opts.budgetMs;
  let found: KeywordHit[] = [];
  try {
    const hits = await db.$transaction(
      (tx) =>
        stagedSearch(db, scope, terms, limit, async (run) => {
          const left = Math.floor(deadline - performance.now());
          if (left < 1) throw new BudgetSpent(found);
          await tx.$queryRaw`SELECT set_config('statement_timeout', ${String(left)}, true)`;
          try {
            return (found = await run(tx));
          } catch (error) {
            if (isStatementTimeout(error)) throw new BudgetSpent(found);
            throw error;
          }
        }),
      TRANSACTION_OPTIONS,
    );
    return { hits, complete: true };
  } catch (error) {
    if (error instanceof BudgetSpent) return { hits: error.hits, complete: false };
    throw error;
  }
}

/**
 * The stages described at {@link boundedKeywordSearch}; `stage` runs each
 * stage's statements (directly, or under the budget).
 */
async function stagedSearch(
  db: Db,
  scope: SearchScope,
  terms: QueryTerm[],
  limit: number,
  stage: (run: (q: Queryable) => Promise<KeywordHit[]>) => Promise<KeywordHit[]>,
): Promise<KeywordHit[]> {
  const orQuery = terms.map((t) => t.text).join(' | ');
  const selective = terms.filter((t) => t.estimatedRows <= COMMON_TERM_ROWS);
  if (selective.length > 0 && selective.length < terms.length) {
    const hits = await stage((q) => rankedCandidates(q, scope, selective.map((t) => t.text).join(' | '), orQuery, limit));
    if (hits.length >= limit) return hits;
  }
  if (terms.length >= 2 && terms.length <= MAX_PAIR_TERMS) {
    const pairs: string[] = [];
    for (let i = 0; i < terms.length; i++) for (let j = i + 1; j < terms.length; j++) pairs.push(`${terms[i]!.text} & ${terms[j]!.text}`);
    const hits = await stage((q) => rankedCandidates(q, scope, pairs.join(' | '), orQuery, limit));
    if (hits.length >= limit) return hits;
  }
  return stage((q) => rankedCandidates(q, scope, orQuery, orQuery, limit));
}

/**
 * Chunks of the tenant matching `matchQuery`, ranked by `rankQuery`, the best
 * `limit` within `scope`; through the capped candidate set first, the whole
 * match set when the cap cut off passages the scope would have kept.
 */
async function rankedCandidates(db: Queryable, scope: SearchScope, matchQuery: string, rankQuery: string, limit: number): Promise<KeywordHit[]> {
  const cap = Math.max(limit * CANDIDATE_FACTOR, MIN_CANDIDATES);
  const capped = await rankedQuery(db, scope, matchQuery, rankQuery, limit, cap);
  if (capped.hits.length >= limit || capped.candidates < cap) return capped.hits;
  return (await rankedQuery(db, scope, matchQuery, rankQuery, limit, undefined)).hits;
}

async function rankedQuery(
  db: Queryable,
  scope: SearchScope,
  matchQuery: string,
  rankQuery: string,
  limit: number,
  cap: number | undefined,
): Promise<{ hits: KeywordHit[]; candidates: number }> {
  // Match through the GIN index once (MATERIALIZED), then join documents.
  // Left to itself, the planner (on fresh statistics after a crawl) chose a
  // nested loop that rescanned the tenant index per document: 700 ms
  // instead of 25 ms.
  const capSql = cap === undefined ? Prisma.empty : Prisma.sql`ORDER BY rank DESC, c.id LIMIT ${cap}`;
  const rows = await db.$queryRaw<{ id: string; rank: number; candidates: bigint }[]>`
    WITH hits AS MATERIALIZED (
      SELECT c.id, c.document_id, ts_rank(c.search_vector, ${rankQuery}::tsquery, 32)::float8 AS rank
      FROM chunks c
      WHERE c.search_vector @@ ${matchQuery}::tsquery AND c.tenant_id = ${scope.tenantId}::uuid
      ${capSql}
    )
    SELECT h.id, h.rank, (SELECT count(*) FROM hits) AS candidates
    FROM hits h
    JOIN documents d ON d.id = h.document_id
    WHERE ${scopeConditions(scope)}
    ORDER BY h.rank DESC, h.id
    LIMIT ${limit}`;
  // No row in scope: the count is unknown, so assume the cap cut (an empty
  // match set makes the uncut query cheap anyway).
  const candidates = rows.length > 0 ? Number(rows[0]!.candidates) : (cap ?? 0);
  return { hits: rows.map((r) => ({ id: r.id, rank: r.rank })), candidates };
}
