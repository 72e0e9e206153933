// POST /v1/query {"stream": true} against the API in process, with the
// aggregator's query processor and the embedder's record processor running
// in process on the same Redis, PostgreSQL and LanceDB, and a local
// OpenAI-compatible server streaming the LLM's tokens.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KbflowClient, type QueryStreamEvent } from '@kbflow/client';
import { DocumentRepository, RecordRepository } from '@kbflow/db';
import { HashingEmbedder, OpenAIChatModel, type ChatModel } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, QueueName, someHandlers } from '@kbflow/queues';
import { startFakeOpenAI, type FakeOpenAI } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Worker } from 'bullmq';
import { answerQuery } from '../../services/aggregator/src/processors/query.processor.ts';
import { embedDocuments } from '../../services/embedder/src/processors/embed-documents.processor.ts';
import { DEV_KEY, startTestApi, type TestApi } from '../../services/api/test/support/test-api.ts';

let api: TestApi;
let fake: FakeOpenAI;
let lanceDir: string;
let vectors: LanceDbVectorStore;
let client: KbflowClient;
/** The chat model the query worker answers with; undefined: extractive. */
let chat: ChatModel | undefined;
const workers: Worker[] = [];

const RECORDS = [
  {
    id: 'kb-1',
    title: 'Resetting a password',
    body: 'To reset a forgotten password open the account page and choose Reset password. The reset link arrives by email and expires after one hour. A used link cannot be opened twice.',
  },
  {
    id: 'kb-2',
    title: 'Two-factor authentication',
    body: 'Two-factor authentication asks for a code from an authenticator app after the password. Recovery codes let you sign in when the phone is lost. Each recovery code works once.',
  },
  {
    id: 'kb-3',
    title: 'Closing an account',
    body: 'An account is closed from the privacy page. Closing it deletes every document after thirty days. Support can restore a closed account during those thirty days.',
  },
];
const QUESTION = { query: 'how do I reset a forgotten password and when does the reset link expire?', topK: 3 };

async function until<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function collect(body: Record<string, unknown>, opts: { stopAfterFirstAnswer?: AbortController } = {}): Promise<QueryStreamEvent[]> {
  const events: QueryStreamEvent[] = [];
  try {
    for await (const event of client.queryStream(body as never, opts.stopAfterFirstAnswer ? { signal: opts.stopAfterFirstAnswer.signal } : {})) {
      events.push(event);
      if (opts.stopAfterFirstAnswer && event.event === 'answer') opts.stopAfterFirstAnswer.abort();
    }
  } catch (error) {
    if (!opts.stopAfterFirstAnswer?.signal.aborted) throw error;
  }
  return events;
}

beforeAll(async () => {
  api = await startTestApi({ label: 'stream', queryTimeoutMs: 60_000 });
  fake = await startFakeOpenAI();
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-stream-lance-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'kbflow_chunks' });
  const embedder = new HashingEmbedder();
  const common = { connection: api.redis, producer: api.producer, log: createLogger('stream-test', 'silent'), registry: createMetrics('stream-test').registry };
  const documents = new DocumentRepository(api.db);
  const queryDeps = {
    documents,
    vectors,
    embedder,
    get chat() {
      return chat;
    },
    streams: { redis: api.redis, prefix: api.producer.prefix, cancelPollMs: 50 },
  };
  const embedDeps = { documents, records: new RecordRepository(api.db), embedder, vectors, ready: () => vectors.ensureCollection(embedder.dimensions) };
  workers.push(
    createWorker({
      ...common,
      queue: QueueName.query,
      concurrency: 4,
      handlers: someHandlers(QueueName.query, { 'answer-query': (data, ctx) => answerQuery(data, ctx, queryDeps) }),
    }),
    createWorker({
      ...common,
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, { 'embed-documents': (data, ctx) => embedDocuments(data, ctx, embedDeps) }),
    }),
  );
  client = new KbflowClient({ baseUrl: api.base, apiKey: DEV_KEY, retry: { attempts: 1 } });
  await client.ingestRecords(RECORDS, { source: 'help' });
  await until(
    async () => ((await api.db.chunk.count({ where: { indexed: { isNot: null } } })) >= RECORDS.length ? true : undefined),
    60_000,
    'the records to be embedded',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await vectors?.close();
  await fake?.close();
  await api?.close();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
}, 60_000);

describe('POST /v1/query {"stream": true}', () => {
  it('extractive: citations first, then the answer sentence by sentence, then the timings; the pieces are the non-streaming answer', async () => {
    chat = undefined;
    const whole = await client.query(QUESTION);
    const events = await collect({ ...QUESTION, stream: true });
    expect(events.map((e) => e.event)).toEqual(['citations', ...events.slice(1, -1).map(() => 'answer'), 'done']);
    expect(events.length).toBeGreaterThanOrEqual(4);
    const first = events[0]!;
    expect(first.event === 'citations' && first.data.citations).toEqual(whole.citations);
    const answer = events.flatMap((e) => (e.event === 'answer' ? [e.data.text] : [])).join('');
    expect(whole.answeredBy).toBe('extractive');
    expect(answer).toBe(whole.answer);
    const done = events.at(-1)!;
    expect(done.event === 'done' && done.data).toEqual({
      answeredBy: 'extractive',
      timings: expect.objectContaining({ retrieveMs: expect.any(Number), generateMs: expect.any(Number), totalMs: expect.any(Number) }),
    });
  }, 60_000);

  it("LLM: the answer arrives token by token through the provider's streaming API and equals the non-streaming answer", async () => {
    chat = new OpenAIChatModel({ apiKey: 'test', baseURL: fake.url, model: 'fake-chat' });
    const whole = await client.query(QUESTION);
    expect(whole.answeredBy).toBe('llm');
    const streamedBefore = fake.streams.completed;
    const events = await collect({ ...QUESTION, stream: true });
    const pieces = events.flatMap((e) => (e.event === 'answer' ? [e.data.text] : []));
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.join('')).toBe(whole.answer);
    expect(events[0]!.event).toBe('citations');
    expect(events.at(-1)).toEqual({ event: 'done', data: expect.objectContaining({ answeredBy: 'llm' }) });
    expect(fake.streams.completed).toBe(streamedBefore + 1);
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body.stream).toBe(true);
  }, 60_000);

  it('a client that disconnects mid-stream cancels the job: the aggregator stops and closes the provider stream', async () => {
    chat = new OpenAIChatModel({ apiKey: 'test', baseURL: fake.url, model: 'fake-chat' });
    const whole = await client.query(QUESTION);
    fake.setTokenDelay(150);
    try {
      const abortedBefore = fake.streams.aborted;
      const completedBefore = fake.streams.completed;
      const stop = new AbortController();
      const events = await collect({ ...QUESTION, stream: true }, { stopAfterFirstAnswer: stop });
      expect(events.map((e) => e.event)).toEqual(['citations', 'answer']);
      const queue = api.producer.queue(QueueName.query);
      const job = await until(
        async () => {
          const done = await queue.getJobs(['completed', 'failed'], 0, 100);
          return done.find((j) => j.data.stream === true && j.returnvalue?.cancelled === true);
        },
        30_000,
        'the cancelled job',
      );
      expect(job.returnvalue).toEqual(expect.objectContaining({ cancelled: true, answeredBy: 'llm' }));
      // The job stopped reading: the provider saw its stream closed before the last token.
      await until(async () => (fake.streams.aborted > abortedBefore ? true : undefined), 30_000, 'the provider stream to be closed');
      expect(fake.streams.completed).toBe(completedBefore);
      // What it had produced when it stopped is the start of the answer, not all of it.
      expect(whole.answer.startsWith(job.returnvalue.answer)).toBe(true);
      expect(job.returnvalue.answer.length).toBeLessThan(whole.answer.length);
    } finally {
      fake.setTokenDelay(0);
    }
  }, 90_000);

  it('a stream that is not a boolean is a 400 naming the field, and nothing is queued', async () => {
    const before = await api.jobTotal();
    for (const stream of ['yes', 1, null, {}]) {
      const res = await api.send('POST', '/v1/query', { body: { ...QUESTION, stream } });
      expect(res.status).toBe(400);
      expect(res.json.error).toEqual({ code: 'invalid_field', message: 'must be true or false', field: 'stream' });
    }
    expect(await api.jobTotal()).toBe(before);
  });

  it('the non-streaming form is unchanged: JSON, no stream field needed', async () => {
    chat = undefined;
    const res = await api.send('POST', '/v1/query', { body: QUESTION });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.json).toEqual(expect.objectContaining({ answer: expect.any(String), citations: expect.any(Array), answeredBy: 'extractive' }));
  });
});
