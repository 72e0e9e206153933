import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  apiClient,
  artifactDir,
  startE2eStack,
  startFakeOpenAI,
  startOtlpReceiver,
  startStaticServer,
  type E2eStack,
  type FakeOpenAI,
  type OtlpReceiver,
  type ReceivedSpan,
  type StaticServer,
} from '@kbflow/testing';

// One crawl and one question followed through the service processes as
// traces, exported over OTLP/HTTP to a receiver this test runs. The site is
// three pages (a seed linking two), the provider a local OpenAI-compatible
// server, so embedding and answering are provider calls with spans of their own.
const KEY = 'tracing-dev-key';
const DIMENSIONS = 64;
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

const paragraph = (topic: string) =>
  `<p>The ${topic} of the lighthouse is kept by the keeper, who writes every change in the logbook. ` +
  `A visitor asking about the ${topic} is shown the logbook, the lamp room and the stairs, in that order. ` +
  `Nothing about the ${topic} is decided without the harbour master, who signs the logbook each week.</p>`;
const page = (title: string, topic: string, links: string[] = []) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>` +
  `${paragraph(topic)}${paragraph(`${topic} schedule`)}${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</main></body></html>`;
const PAGES = {
  '/index.html': page('Lighthouse handbook', 'handbook', ['/lamp.html', '/keeper.html']),
  '/lamp.html': page('The lamp', 'lamp'),
  '/keeper.html': page('The keeper', 'keeper'),
};

let receiver: OtlpReceiver;
let provider: FakeOpenAI;
let site: StaticServer;
let siteRoot: string;
let e2e: E2eStack;

const client = apiClient(() => e2e.stack.apiUrl, KEY);

/** The spans of one trace received so far. */
const traceOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

/**
 * Waits until the trace holds the spans `done` looks for and no span's
 * parent is missing (exports arrive from four processes, each on its own
 * 5 s batch schedule).
 */
async function waitForTrace(traceId: string, done: (spans: ReceivedSpan[]) => boolean, external: string[] = []): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const spans = traceOf(traceId);
    const ids = new Set([...spans.map((s) => s.spanId), ...external]);
    if (done(spans) && spans.every((s) => s.parentSpanId === undefined || ids.has(s.parentSpanId))) return spans;
    if (Date.now() > deadline) {
      const names = spans.map((s) => `${s.service}: ${s.name}`).sort();
      throw new Error(`trace ${traceId} incomplete after 45 s; ${spans.length} spans: ${names.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether `span` descends from `ancestor` within `spans`. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (
    let current = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    current;
    current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined
  ) {
    if (current.spanId === ancestor.spanId) return true;
  }
  return false;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  provider = await startFakeOpenAI({ dimensions: DIMENSIONS });
  siteRoot = await mkdtemp(path.join(tmpdir(), 'kbflow-tracing-site-'));
  site = await startStaticServer(siteRoot, PAGES);
  e2e = await startE2eStack('tracing', {
    // Maintenance has no part in a crawl or a question.
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-tracing'),
    env: {
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'tracing-admin-key',
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: provider.url,
      KBFLOW_EMBEDDING_MODEL: 'text-embedding-3-small',
      KBFLOW_EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      KBFLOW_CHAT_MODEL: 'gpt-4o-mini',
      KBFLOW_KEYWORD_BUDGET_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    },
  });
}, 120_000);

afterAll(async () => {
  await e2e?.teardown();
  await site?.close();
  await provider?.close();
  await receiver?.close();
  if (siteRoot) await rm(siteRoot, { recursive: true, force: true });
}, 60_000);

describe('traces across the service processes (OTLP)', () => {
  it('one crawl is one trace: the api request is its root, and the scrape, embed and completion jobs of every service descend from it', async () => {
    const res = await client.call('POST', '/v1/crawl', { url: `${site.url}/index.html`, maxPages: 10, maxDepth: 1 });
    expect(res.status).toBe(202);
    const taskId: string = res.json.taskId;
    const task = await client.waitForTask(taskId, 90_000, { everyMs: 250 });
    expect(task.state).toBe('completed');
    expect(task.progress).toMatchObject({ discovered: 3, embedded: 3 });
    // Task status names the trace.
    expect(task.traceId).toMatch(/^[0-9a-f]{32}$/);

    const named = (spans: ReceivedSpan[], service: string, name: string) => spans.filter((s) => s.service === service && s.name === name);
    const completed = (spans: ReceivedSpan[], service: string, name: string) =>
      named(spans, service, name).filter((s) => s.attributes['kbflow.job.outcome'] === 'completed');
    // Each process exports on its own schedule: wait for every part, not just the last job.
    const spans = await waitForTrace(
      task.traceId,
      (s) =>
        completed(s, 'aggregator', 'process aggregate/complete-crawl').length === 1 &&
        completed(s, 'scraper', 'process scrape/scrape-page').length === 3 &&
        completed(s, 'embedder', 'process embed/embed-chunks').length >= 3 &&
        completed(s, 'aggregator', 'process aggregate/complete-document').length >= 3 &&
        named(s, 'embedder', 'embeddings text-embedding-3-small').length >= 1,
    );

    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['api', 'scraper', 'embedder', 'aggregator']));
    expect(receiver.requests.refused).toBe(0);

    // The api's request span is the one root.
    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => [s.service, s.name, s.kind, s.attributes['http.response.status_code']])).toEqual([['api', 'POST /v1/crawl', SERVER, 202]]);
    const root = roots[0]!;
    // The task row was written inside the request.
    expect(named(spans, 'api', 'prisma Task.create').some((s) => descendsFrom(spans, s, root))).toBe(true);

    // The seed's scrape job is the request's child; the two linked pages' jobs are the seed job's.
    // (Attempts that failed and were retried on a loaded machine are spans too, and may be parents.)
    const attempts = named(spans, 'scraper', 'process scrape/scrape-page');
    expect(
      attempts.every((s) => s.kind === CONSUMER && s.attributes['messaging.destination.name'] === 'scrape' && s.attributes['kbflow.correlation_id'] === taskId),
    ).toBe(true);
    const scrapes = completed(spans, 'scraper', 'process scrape/scrape-page');
    const seeds = attempts.filter((s) => s.attributes['messaging.message.id'] === `scrape-${taskId}-0`);
    expect(seeds.length).toBeGreaterThanOrEqual(1);
    expect(seeds.every((s) => s.parentSpanId === root.spanId)).toBe(true);
    const linked = scrapes.filter((s) => !seeds.includes(s));
    expect(linked).toHaveLength(2);
    expect(linked.every((s) => seeds.some((seed) => seed.spanId === s.parentSpanId))).toBe(true);
    // Each page was fetched inside its job, as an HTTP client span.
    const fetches = named(spans, 'scraper', 'GET');
    expect(new Set(fetches.map((f) => f.attributes['url.full']))).toEqual(new Set(Object.keys(PAGES).map((p) => `${site.url}${p}`)));
    expect(fetches.every((f) => f.kind === CLIENT && attempts.some((s) => s.spanId === f.parentSpanId))).toBe(true);

    // Every page's embed job is a child of the scrape job that stored the page,
    // and the provider was called inside the embedder's work for them.
    const embeds = named(spans, 'embedder', 'process embed/embed-chunks');
    expect(embeds.every((e) => attempts.some((s) => s.spanId === e.parentSpanId))).toBe(true);
    const providerCalls = named(spans, 'embedder', 'embeddings text-embedding-3-small');
    expect(providerCalls.length).toBeGreaterThanOrEqual(1);
    expect(
      providerCalls.every(
        (p) => p.kind === CLIENT && p.attributes['gen_ai.request.model'] === 'text-embedding-3-small' && embeds.some((e) => descendsFrom(spans, p, e)),
      ),
    ).toBe(true);
    expect(named(spans, 'embedder', 'vector-store upsert').some((u) => embeds.some((e) => descendsFrom(spans, u, e)))).toBe(true);

    // The aggregator completes each document under its scrape job, and the crawl under the request.
    const documents = named(spans, 'aggregator', 'process aggregate/complete-document');
    expect(documents.every((d) => attempts.some((s) => s.spanId === d.parentSpanId))).toBe(true);
    expect(named(spans, 'aggregator', 'process aggregate/complete-crawl').map((c) => c.parentSpanId)).toEqual([root.spanId]);

    // One crawl, one trace: no job of the task started a trace of its own.
    const jobsOfTask = receiver.spans.filter((s) => s.kind === CONSUMER && s.attributes['kbflow.correlation_id'] === taskId);
    expect(new Set(jobsOfTask.map((s) => s.traceId))).toEqual(new Set([task.traceId]));
  }, 180_000);

  it("a question continues the caller's trace: request, query job, provider calls, vector-store and database calls", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const res = await client.client().request('POST', '/v1/query', {
      json: { query: 'Who signs the logbook of the lighthouse?', topK: 3 },
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(res.status).toBe(200);
    expect((res.json as { answeredBy: string }).answeredBy).toBe('llm');

    const spans = await waitForTrace(traceId, (s) => s.some((x) => x.name === 'process query/answer-query') && s.some((x) => x.name === 'chat gpt-4o-mini'), [
      callerSpanId,
    ]);
    const request = spans.find((s) => s.service === 'api' && s.name === 'POST /v1/query');
    expect(request?.parentSpanId).toBe(callerSpanId);
    const job = spans.find((s) => s.service === 'aggregator' && s.name === 'process query/answer-query');
    expect(job?.parentSpanId).toBe(request!.spanId);
    expect(job?.attributes['kbflow.job.outcome']).toBe('completed');
    const under = (name: string) => spans.filter((s) => s.service === 'aggregator' && s.name.startsWith(name) && descendsFrom(spans, s, job!));
    expect(under('embeddings text-embedding-3-small').map((s) => s.kind)).toEqual([CLIENT]);
    expect(under('chat gpt-4o-mini')).toHaveLength(1);
    expect(under('vector-store search').length).toBeGreaterThanOrEqual(1);
    expect(under('prisma ').length).toBeGreaterThanOrEqual(1);
    // Nothing of this question leaked into another trace, nor another into it.
    expect(spans.filter((s) => s.parentSpanId === undefined)).toEqual([]);
  }, 90_000);
});
