// Throws malformed and random requests at every endpoint of the real API
// (in-process, over the real Redis and PostgreSQL). Every request is built to
// be wrong in at least one way, so every answer must be a 4xx with the JSON
// error shape: never a 5xx, never a crash, and never a row or a job left
// behind. The PRNG is seeded; a failure names the seed that reproduces it:
//   KBFLOW_FUZZ_SEED=<seed> jest services/api/test/fuzz.int.test.ts
import { request, Agent } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generate, type FuzzRequest } from './support/fuzz-requests.ts';
import { MAX_BODY } from './support/fuzz-object-bodies.ts';
import { RECORDS_MAX_BYTES } from './support/fuzz-bodies.ts';
import { Fuzz } from './support/fuzz.ts';
import { startTestApi, type TestApi } from './support/test-api.ts';

const SEED = Number(process.env.KBFLOW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
const REQUESTS = Number(process.env.KBFLOW_FUZZ_REQUESTS ?? 3000);
const PARALLEL = 8;
/** Longer than any answer takes even on a busy machine (queries wait at most 2 s here). */
const ANSWER_TIMEOUT_MS = 20_000;

interface FuzzResponse {
  status: number;
  contentType: string;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });

/** One raw HTTP request: node:http, so paths go out exactly as written (no URL normalization). */
function send(base: URL, req: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body && !req.chunked) headers['content-length'] = req.body.length;
    const r = request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    // A request left unanswered is a defect of its own; it must not stall the whole run.
    r.setTimeout(ANSWER_TIMEOUT_MS, () => r.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    if (req.chunked && req.body) r.write(req.body);
    r.end(req.chunked ? undefined : req.body);
  });
}

/** What is wrong with a response, or undefined when it is a proper 4xx JSON error. */
function problem(req: FuzzRequest, res: FuzzResponse): string | undefined {
  if (res.status < 400 || res.status > 499) return `status ${res.status}`;
  if (!/^application\/json/.test(res.contentType)) return `content-type ${res.contentType}`;
  if (req.method === 'HEAD') return undefined;
  try {
    const error = (JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') return `body ${res.body.slice(0, 200)}`;
  } catch {
    return `not JSON: ${res.body.slice(0, 200)}`;
  }
  return undefined;
}

const describeRequest = (r: FuzzRequest) =>
  `${r.category}: ${r.method} ${r.path.slice(0, 120)} headers=${JSON.stringify(r.headers).slice(0, 300)} body=${r.body?.toString('utf8').slice(0, 200) ?? '(none)'}`;

let api: TestApi;
let lanceDir: string;
let vectors: LanceDbVectorStore;

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-fuzz-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  // With a vector store, so the tenant admin routes are mounted and fuzzed too.
  api = await startTestApi({ label: 'fuzz', maxBodyBytes: MAX_BODY, recordsMaxBytes: RECORDS_MAX_BYTES, queryTimeoutMs: 2000, vectors });
  // The tenants' default knowledge bases exist, so lookups by record id, case status and the like reach PostgreSQL.
  for (const name of ['dev', 'admin']) {
    const tenant = await api.db.tenant.findUniqueOrThrow({ where: { name } });
    await api.tenants.knowledgeBaseId(tenant.id, 'default');
  }
});

afterAll(async () => {
  agent.destroy();
  await api.close();
  await vectors.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('fuzzing the API', () => {
  it(`answers ${REQUESTS} malformed requests (seed ${SEED}) with 4xx JSON errors only, and writes and enqueues nothing`, async () => {
    const counts = async () => {
      // No search is ever answered here, so none may be logged: write out what the log buffers first.
      await api.searchLogs.writer.flush();
      return {
        tasks: await api.db.task.count(),
        taskPages: await api.db.taskPage.count(),
        knowledgeBases: await api.db.knowledgeBase.count(),
        idempotencyKeys: await api.db.idempotencyKey.count(),
        // Pages, records, cases and articles alike.
        documents: await api.db.document.count(),
        chunks: await api.db.chunk.count(),
        cases: await api.db.case.count(),
        caseSyncLog: await api.db.caseSyncLog.count(),
        knowledgeArticles: await api.db.knowledgeArticle.count(),
        knowledgeArticleCases: await api.db.knowledgeArticleCase.count(),
        scheduleRuns: await api.db.scheduleRun.count(),
        sources: await api.db.source.count(),
        searchLogs: await api.db.searchLog.count(),
        tenants: await api.db.tenant.count(),
        apiKeys: await api.db.apiKey.count(),
        tenantPurges: await api.db.tenantPurge.count(),
        jobs: await api.jobTotal(),
      };
    };
    const before = await counts();
    const f = new Fuzz(SEED);
    const requests = Array.from({ length: REQUESTS }, () => generate(f));
    const base = new URL(api.base);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < requests.length; i += PARALLEL) {
      const batch = requests.slice(i, i + PARALLEL);
      const responses = await Promise.all(
        batch.map((r) => send(base, r).catch((e: Error) => ({ status: 0, contentType: '', body: `transport error: ${e.message}` }))),
      );
      responses.forEach((res, j) => {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const wrong = problem(batch[j]!, res);
        if (wrong) problems.push(`#${i + j} ${wrong} <- ${describeRequest(batch[j]!)}`);
      });
    }
    expect({ seed: SEED, problems: problems.slice(0, 15), total: problems.length }).toEqual({ seed: SEED, problems: [], total: 0 });
    // Every category of defect was exercised, and answered with more than one kind of 4xx.
    expect(new Set(requests.map((r) => r.category)).size).toBe(6);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(5);

    expect((await api.send('GET', '/readyz', { key: null })).status).toBe(200);
    expect(await counts()).toEqual(before);
  }, 300_000);

  // Found by the fuzzer; rare in its mix, so kept here for every run. busboy fails the open
  // part's stream when a form is cut off: unheard, that error was uncaught (it ends the API
  // process, which has no handler for it, and here the request never got an answer); heard
  // but unclassified, it was a 500.
  it('answers an upload cut off inside any part with a 400, stores nothing and keeps serving', async () => {
    const part = (name: string, filename: string, content: string) =>
      `--cut\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n\r\n${content}\r\n`;
    const forms = [
      part('file', 'rows.csv', 'id,externalId,subject,body\nr-1,c-1,Login fails,Since the update.'),
      part('file', 'rows.ndjson', '{"id":"r-1","externalId":"c-1","subject":"Login fails","body":"b"}'),
      part('attachment', 'notes.csv', 'a,b\n1,2'),
    ];
    const before = { documents: await api.db.document.count(), cases: await api.db.case.count() };
    for (const path of ['/v1/records', '/v1/cases']) {
      for (const form of forms) {
        const res = await api.send('POST', path, { body: form, headers: { 'content-type': 'multipart/form-data; boundary=cut' } });
        expect({ path, form, status: res.status, code: res.json?.error?.code }).toEqual({ path, form, status: 400, code: 'invalid_multipart' });
      }
    }
    expect({ documents: await api.db.document.count(), cases: await api.db.case.count() }).toEqual(before);
    expect((await api.send('GET', '/readyz', { key: null })).status).toBe(200);
  });

  // Found by the fuzzer: zlib's error reached the row readers unclassified, a 500.
  it('answers a bulk body that its Content-Encoding cannot decode with a 400 naming the encoding', async () => {
    const bodies = [
      ['text/csv', 'externalId,id,subject,body\nc-1,r-1,Login fails,b\n'],
      ['application/x-ndjson', '{"externalId":"c-1","id":"r-1","subject":"s","body":"b"}\n{"externalId":"c-2","id":"r-2","subject":"s","body":"b"}\n'],
    ];
    for (const path of ['/v1/records', '/v1/cases']) {
      for (const [type, body] of bodies) {
        for (const encoding of ['gzip', 'deflate']) {
          const res = await api.send('POST', path, { body, headers: { 'content-type': type!, 'content-encoding': encoding } });
          const { code, field } = res.json?.error ?? {};
          expect({ path, type, encoding, status: res.status, code, field }).toEqual({
            path,
            type,
            encoding,
            status: 400,
            code: 'invalid_encoding',
            field: 'Content-Encoding',
          });
        }
      }
    }
  });
});
