import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, DocumentRepository, TenantRepository, type Db } from '@kbflow/db';
import { chunkMarkdown, sha256Hex } from '@kbflow/extraction';
import { createRedis, JobProducer, Priority, QueueName, type Redis } from '@kbflow/queues';
import { apiClient, artifactDir, startE2eStack, testRedisUrl, type E2eStack, type Stack } from '@kbflow/testing';

// Interactive questions go through the query queue at CRITICAL priority and
// must be answered while bulk work piles up. The api, embedder and
// aggregator run as real processes; 50,000 BULK embed jobs are put in front
// of the embedder with addBulk, and while they wait and drain, POST /v1/query
// and /v1/search must still answer, with the right citations. Correctness
// only: how fast is the benchmark's business (`./kbflow bench --only query`).
const KEY = 'backlog-dev-key';
const BACKLOG = 50_000;
const ENQUEUE_CHUNK = 2_500;

// A few documents with one unmistakable answer each, among ordinary filler.
const ANSWERS = [
  {
    url: 'https://docs.example/lighthouse',
    title: 'Where the quartermaster keeps the xylophone',
    body: 'The quartermaster keeps the brass xylophone in the lighthouse storeroom, behind the spare lantern lenses, and tunes it every solstice.',
    question: 'Where does the quartermaster keep the xylophone?',
    inAnswer: 'lighthouse storeroom',
  },
  {
    url: 'https://docs.example/glacier',
    title: 'Resetting the glacier sensor array',
    body: 'To reset the glacier sensor array, hold the amber calibration button for nine seconds until the telemetry beacon blinks twice.',
    question: 'How do I reset the glacier sensor array?',
    inAnswer: 'amber calibration button',
  },
];
const FILLER = Array.from({ length: 20 }, (_, i) => ({
  url: `https://docs.example/filler-${i}`,
  title: `Release notes ${i}`,
  body: `Version ${i}.0 improves printing of invoices, fixes a crash in the settings dialog and updates translations for region ${i}.`,
}));

let e2e: E2eStack;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let stack: Stack;
let tenantId: string;
const client = apiClient(() => stack.apiUrl, KEY);

/** Jobs waiting to run in the embed queue: BULK jobs sit in BullMQ's prioritized set. */
async function waitingEmbedJobs(): Promise<number> {
  const counts = await producer.queue(QueueName.embed).getJobCounts('prioritized', 'waiting');
  return (counts.prioritized ?? 0) + (counts.waiting ?? 0);
}

async function embedTextsCompleted(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${stack.services.get('embedder')!.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('kbflow_jobs_total{') && l.includes('job_name="embed-texts"') && l.includes('outcome="completed"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  e2e = await startE2eStack('backlog', {
    services: ['api', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-backlog'),
    env: {
      KBFLOW_DEV_API_KEY: KEY,
      // Correctness under the backlog, not speed: on this loaded machine the
      // keyword half could run past its budget and change the top citation
      // (the budget has tests of its own: packages/db/test/keyword-search.int.test.ts).
      KBFLOW_KEYWORD_BUDGET_MS: '0',
    },
  });
  stack = e2e.stack;
  db = createDb(e2e.database.url);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, e2e.prefix);

  // Index the documents through the real embedder process, before the backlog exists.
  const tenants = new TenantRepository(db);
  const documents = new DocumentRepository(db);
  tenantId = await tenants.ensureTenantWithKey('dev', KEY, { keyName: 'KBFLOW_DEV_API_KEY', tier: 'enterprise' });
  const knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, 'default');
  const stored: string[] = [];
  for (const doc of [...ANSWERS, ...FILLER]) {
    const markdown = `# ${doc.title}\n\n${doc.body}`;
    const result = await documents.store({
      tenantId,
      knowledgeBaseId,
      url: doc.url,
      title: doc.title,
      markdown,
      contentHash: sha256Hex(markdown),
      contentType: 'page',
      chunks: chunkMarkdown(markdown).map((c) => ({ position: c.position, heading: c.heading, text: c.text, hash: c.hash })),
    });
    stored.push(result.documentId);
    await producer.enqueue(
      QueueName.embed,
      'embed-chunks',
      { tenantId, documentId: result.documentId, chunkIds: result.pendingChunkIds },
      { priority: Priority.HIGH },
    );
  }
  const deadline = Date.now() + 60_000;
  while ((await db.chunk.count({ where: { indexed: null } })) > 0) {
    if (Date.now() > deadline) throw new Error('the documents were not embedded within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const id of stored) await documents.completeDocument(id);
}, 120_000);

afterAll(async () => {
  // The backlog goes with the test: obliterate this prefix's queues first, so
  // the embedder stops pulling BULK jobs, then stop the processes.
  await Promise.all(producer?.allQueues().map((q) => q.obliterate({ force: true }).catch(() => undefined)) ?? []);
  await producer?.close();
  await redis?.quit();
  await db?.$disconnect();
  await e2e?.teardown();
}, 60_000);

describe('a CRITICAL question during a 50,000-job BULK backlog', () => {
  it('is answered by /v1/query and /v1/search with the right citations while the backlog waits and drains', async () => {
    // Enqueue until at least 50,000 are waiting (the embedder drains while
    // we add), and again before each question: the embedder drains close to
    // a thousand jobs a second on a fast machine, so one top-up at the start
    // let the backlog dip under 50,000 by the later questions. The margin
    // covers what drains between the top-up and the count.
    let added = 0;
    const topUp = async () => {
      while ((await waitingEmbedJobs()) < BACKLOG + ENQUEUE_CHUNK) {
        const base = added;
        await producer.enqueueBulk(
          QueueName.embed,
          'embed-texts',
          Array.from({ length: ENQUEUE_CHUNK }, (_, i) => ({
            data: { tenantId, texts: [`bulk text ${base + i}: ${FILLER[(base + i) % FILLER.length]!.body}`] },
            opts: { priority: Priority.BULK, removeOnComplete: true, removeOnFail: true },
          })),
        );
        added += ENQUEUE_CHUNK;
      }
    };

    for (const answer of ANSWERS) {
      await topUp();
      const before = await waitingEmbedJobs();
      expect(before).toBeGreaterThanOrEqual(BACKLOG);
      const [query, search] = await Promise.all([
        client.call('POST', '/v1/query', { query: answer.question, topK: 3 }),
        client.call('POST', '/v1/search', { query: answer.question, topK: 3 }),
      ]);
      expect(query.status).toBe(200);
      expect(query.json.citations.length).toBeGreaterThan(0);
      expect(query.json.citations[0].url).toBe(answer.url);
      expect(query.json.answer).toContain(answer.inAnswer);
      expect(search.status).toBe(200);
      expect(search.json.results[0].url).toBe(answer.url);
      expect(search.json.results[0].text).toContain(answer.body.slice(0, 40));
    }

    // The backlog was real work being drained, not a paused queue: the
    // embedder completed BULK jobs meanwhile, and most still wait.
    expect(await embedTextsCompleted()).toBeGreaterThan(0);
    const after = await waitingEmbedJobs();
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(added);
  }, 120_000);
});
