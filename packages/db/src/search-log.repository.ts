import type { Db } from './client.ts';
import { Prisma } from './generated/client.ts';

/** One logged `/v1/search` or `/v1/query`. */
export interface SearchLogEntry {
  tenantId: string;
  knowledgeBaseId: string;
  kind: 'search' | 'query';
  query: string;
  mode: string;
  filters: Record<string, unknown>;
  /** The API's total time for the request. */
  latencyMs: number;
  hits: number;
  topScore: number | null;
  degraded: string | null;
  createdAt?: Date;
}

export interface SearchAnalytics {
  total: number;
  byKind: Record<string, number>;
  byMode: Record<string, number>;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Share of logged requests with no hit, 0..1 (null without requests). */
  zeroHitRate: number | null;
  /** Mean of the best score per request; scores are per mode (cosine, full-text rank, RRF), so also given by mode. */
  meanTopScore: number | null;
  meanTopScoreByMode: Record<string, number>;
  topQueries: { query: string; count: number }[];
  topZeroHitQueries: { query: string; count: number }[];
  /** Every hour from `since` to `until`, empty hours included. */
  perHour: { hour: string; count: number }[];
}

/** How many top (zero-hit) queries the summary lists. */
const TOP_QUERIES = 10;

/**
 * A query as it is grouped in the summary: trimmed, whitespace folded and
 * lower-cased in SQL, so "Reset password" and "reset  password " count as
 * one question.
 */
const NORMALIZED_QUERY = Prisma.sql`lower(regexp_replace(btrim(query), '\\s+', ' ', 'g'))`;

/** The search log (`search_logs`): written in batches by the api, summarised for `GET /v1/search/analytics`. */
export class SearchLogRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Inserts a batch in one statement. */
  async insertMany(entries: SearchLogEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const { count } = await this.db.searchLog.createMany({
      data: entries.map((e) => ({ ...e, filters: e.filters as Prisma.InputJsonValue })),
    });
    return count;
  }

  /** Deletes entries older than `cutoff` (retention); returns how many. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.db.searchLog.deleteMany({ where: { createdAt: { lt: cutoff } } });
    return count;
  }

  /**
   * The summary of one tenant's searches and queries in [since, until),
   * optionally of one knowledge base. Aggregated in PostgreSQL
   * (`percentile_cont` for the latency percentiles), one pass per figure.
   */
  async analytics(filter: { tenantId: string; knowledgeBaseId?: string | undefined; since: Date; until: Date }): Promise<SearchAnalytics> {
    const since = filter.since.toISOString();
    const until = filter.until.toISOString();
    const where = Prisma.sql`tenant_id = ${filter.tenantId}::uuid AND created_at >= ${since}::timestamptz AND created_at < ${until}::timestamptz
      ${filter.knowledgeBaseId ? Prisma.sql`AND knowledge_base_id = ${filter.knowledgeBaseId}::uuid` : Prisma.empty}`;
    const [summary] = await this.db.$queryRaw<
      { total: number; p50: number | null; p95: number | null; p99: number | null; zero_hit_rate: number | null; mean_top_score: number | null }[]
    >`
      SELECT count(*)::int AS total,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
             avg((hits = 0)::int)::float8 AS zero_hit_rate,
             avg(top_score)::float8 AS mean_top_score
      FROM search_logs WHERE ${where}`;
    const groups = await this.db.$queryRaw<{ dimension: string; key: string; count: number; mean_top_score: number | null }[]>`
      SELECT 'kind' AS dimension, kind AS key, count(*)::int AS count, NULL::float8 AS mean_top_score FROM search_logs WHERE ${where} GROUP BY kind
      UNION ALL
      SELECT 'mode', mode, count(*)::int, avg(top_score)::float8 FROM search_logs WHERE ${where} GROUP BY mode`;
    const top = (zeroHitOnly: boolean) => this.db.$queryRaw<{ query: string; count: number }[]>`
      SELECT ${NORMALIZED_QUERY} AS query, count(*)::int AS count
      FROM search_logs WHERE ${where} ${zeroHitOnly ? Prisma.sql`AND hits = 0` : Prisma.empty}
      GROUP BY 1 ORDER BY count DESC, query LIMIT ${TOP_QUERIES}`;
    const [topQueries, topZeroHitQueries] = await Promise.all([top(false), top(true)]);
    // Hours in UTC whatever the session's time zone (date_trunc's third argument).
    const perHour = await this.db.$queryRaw<{ hour: Date; count: number }[]>`
      WITH hours AS (
        SELECT generate_series(date_trunc('hour', ${since}::timestamptz, 'UTC'), ${until}::timestamptz - interval '1 microsecond', interval '1 hour') AS hour
      ), counts AS (
        SELECT date_trunc('hour', created_at, 'UTC') AS hour, count(*)::int AS count FROM search_logs WHERE ${where} GROUP BY 1
      )
      SELECT h.hour, coalesce(c.count, 0)::int AS count FROM hours h LEFT JOIN counts c ON c.hour = h.hour ORDER BY h.hour`;

    const s = summary!;
    const byKind: Record<string, number> = {};
    const byMode: Record<string, number> = {};
    const meanTopScoreByMode: Record<string, number> = {};
    for (const g of groups) {
      if (g.dimension === 'kind') byKind[g.key] = g.count;
      else {
        byMode[g.key] = g.count;
        if (g.mean_top_score !== null) meanTopScoreByMode[g.key] = g.mean_top_score;
      }
    }
    return {
      total: s.total,
      byKind,
      byMode,
      latencyMs: { p50: s.p50, p95: s.p95, p99: s.p99 },
      zeroHitRate: s.zero_hit_rate,
      meanTopScore: s.mean_top_score,
      meanTopScoreByMode,
      topQueries,
      topZeroHitQueries,
      perHour: perHour.map((h) => ({ hour: h.hour.toISOString(), count: h.count })),
    };
  }
}
