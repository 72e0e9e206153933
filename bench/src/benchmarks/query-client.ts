import { BENCH_API_KEY } from '../context.ts';
import { latencySummary, quantile, type LatencySummary } from '../stats.ts';

type QueryRoute = '/v1/query' | '/v1/search';

/** One request's outcome. */
interface Sample {
  ms: number;
  ok: boolean;
  /** The server's own breakdown (queue wait, embed, retrieve, generate, total). */
  timings?: Record<string, number>;
  /** What the answer said was cut short (`keyword-partial`, `keyword-only`). */
  degraded?: string;
  /** What was answered: the cited URLs (query) or the chunk ids (search), best first. */
  top: string[];
}

/** The latencies of one series of requests and the server's median breakdown. */
export interface SeriesResult {
  route: QueryRoute;
  latency: LatencySummary;
  errors: number;
  /** A few error answers, for the report. */
  errorSamples: string[];
  /** p50 and p99 of each server-side timing, ms. */
  server: Record<string, { p50: number; p99: number }>;
  /** Answers that said they were degraded, by reason. */
  degraded: Record<string, number>;
  /** Per question, in order: what was answered (see {@link Sample.top}); empty for an error. */
  tops: string[][];
}

async function ask(apiUrl: string, route: QueryRoute, query: string, knowledgeBase: string, errorSamples: string[]): Promise<Sample> {
  const started = performance.now();
  try {
    const res = await fetch(`${apiUrl}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, topK: route === '/v1/query' ? 5 : 10, knowledgeBase }),
    });
    const body = (await res.json()) as { citations?: { url: string }[]; results?: { chunkId: string }[]; timings?: Record<string, number>; degraded?: string };
    const ms = performance.now() - started;
    const ok = res.status === 200 && ((body.citations?.length ?? 0) > 0 || (body.results?.length ?? 0) > 0);
    if (!ok && errorSamples.length < 3) errorSamples.push(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    const top = ok ? (body.citations?.map((c) => c.url) ?? body.results?.map((r) => r.chunkId) ?? []) : [];
    return { ms, ok, top, ...(body.timings ? { timings: body.timings } : {}), ...(body.degraded ? { degraded: body.degraded } : {}) };
  } catch (error) {
    if (errorSamples.length < 3) errorSamples.push((error as Error).message);
    return { ms: performance.now() - started, ok: false, top: [] };
  }
}

function summarizeSeries(route: QueryRoute, samples: Sample[], errorSamples: string[]): SeriesResult {
  const good = samples.filter((s) => s.ok);
  const server: SeriesResult['server'] = {};
  for (const key of new Set(good.flatMap((s) => Object.keys(s.timings ?? {})))) {
    const values = good.map((s) => s.timings?.[key]).filter((v): v is number => typeof v === 'number');
    server[key] = { p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
  }
  const degraded: Record<string, number> = {};
  for (const s of good) if (s.degraded) degraded[s.degraded] = (degraded[s.degraded] ?? 0) + 1;
  return {
    route,
    latency: latencySummary(good.map((s) => s.ms)),
    errors: samples.length - good.length,
    errorSamples,
    server,
    degraded,
    tops: samples.map((s) => s.top),
  };
}

/**
 * Asks each question through POST /v1/query (topK 5) and then POST
 * /v1/search (topK 10), one request at a time (so a request never waits
 * behind the benchmark's own), interleaved so both series see the same
 * conditions. Latency is client-side: HTTP, the CRITICAL job's trip through
 * Redis, retrieval and the answer. An answer counts when it is 200 with at
 * least one citation (query) or result (search); others are counted as
 * errors and left out of the latencies.
 */
export async function runSeries(apiUrl: string, questions: string[], knowledgeBase: string): Promise<{ query: SeriesResult; search: SeriesResult }> {
  const samples: Record<QueryRoute, Sample[]> = { '/v1/query': [], '/v1/search': [] };
  const errors: Record<QueryRoute, string[]> = { '/v1/query': [], '/v1/search': [] };
  for (const question of questions) {
    for (const route of ['/v1/query', '/v1/search'] as const) samples[route].push(await ask(apiUrl, route, question, knowledgeBase, errors[route]));
  }
  return {
    query: summarizeSeries('/v1/query', samples['/v1/query'], errors['/v1/query']),
    search: summarizeSeries('/v1/search', samples['/v1/search'], errors['/v1/search']),
  };
}
