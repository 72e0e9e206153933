// Tenants and keys managed through the API (kbflow issue 12 items 1 and 4):
// bad input, scopes, revocation seen by a second API instance, isolation
// between two tenants with data in the same knowledge base slug, and a
// purge that leaves nothing of the tenant. The real API over HTTP, the real
// PostgreSQL, Redis (BullMQ) and a LanceDB directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { hashApiKey } from '@kbflow/db';
import { CachedEmbedder, HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import { ALL_QUEUES, onTenantPurged, Priority, QueueName } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { bootstrapEnvKeys } from '../src/bootstrap-keys.ts';
import { bootstrapKeysOf } from '../src/env.ts';
import { KeyUseRecorder } from '../src/http/auth.ts';
import { ADMIN_KEY, DEV_KEY, startTestApi, sleep, type TestApi } from './support/test-api.ts';

jest.setTimeout(60_000);

const REFUSED_WITHIN_MS = 5_000;
const STRONG_KEY = '7d1e4b9a2c6f0e3d8b5a1c7e9f2d4b6a8c0e3f5a7b9d1c2e4f6a8b0c2d4e6f8a';
const log = createLogger('tenancy-test', 'silent');

let api: TestApi;
/** A second API instance over the same database and queues: its own key cache, like another replica. */
let replica: TestApi;
let lanceDir: string;
let vectors: LanceDbVectorStore;

interface Tenant {
  id: string;
  name: string;
  key: string;
  keyId: string;
}

const admin = (method: string, url: string, body?: object) => api.send(method, url, { key: ADMIN_KEY, ...(body ? { body } : {}) });

async function newTenant(name: string, scopes: string[] = ['read', 'write']): Promise<Tenant> {
  const created = await admin('POST', '/v1/admin/tenants', { name, tier: 'professional' });
  expect(created.status).toBe(201);
  const key = await admin('POST', `/v1/admin/tenants/${created.json.id}/keys`, { name: `${name}-key`, scopes });
  expect(key.status).toBe(201);
  return { id: created.json.id, name, key: key.json.key, keyId: key.json.id };
}

async function deadLetterFor(tenantId: string, id: string): Promise<void> {
  await api.producer.enqueue(
    QueueName.deadLetter,
    'dead-letter',
    {
      queue: 'embed',
      jobName: 'embed-texts',
      jobId: id,
      data: { tenantId, texts: ['x'] },
      error: 'boom',
      attemptsMade: 3,
      failedAt: new Date().toISOString(),
      stacktrace: ['Error: boom', '    at /srv/host-secret.js'],
    },
    { priority: Priority.LOW, jobId: `dl-${id}`, removeOnComplete: false, removeOnFail: false },
  );
}

/** Polls `probe` until it returns true; the time it took, or undefined when `deadline` passed first. */
async function becomes(probe: () => Promise<boolean>, deadline: number): Promise<number | undefined> {
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() > deadline) return undefined;
    await sleep(100);
  }
}

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-tenancy-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  api = await startTestApi({ label: 'tenancy', vectors });
  replica = await startTestApi({ database: api.database, prefix: api.prefix, vectors });
}, 60_000);

afterAll(async () => {
  await replica.close();
  await api.close();
  await vectors.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('tenant and key management: bad input', () => {
  it('answers 400/404/409 naming the field, 403 to a tenant key, and writes nothing', async () => {
    const existing = await newTenant('bad-input');
    const before = { tenants: await api.db.tenant.count(), keys: await api.db.apiKey.count() };
    const cases: [string, string, object | undefined, number, string | undefined][] = [
      ['POST', '/v1/admin/tenants', { name: 'gold-co', tier: 'gold' }, 400, 'tier'],
      ['POST', '/v1/admin/tenants', { name: 'neg-co', tier: 'starter', limits: { maxApiCallsPerHour: -1 } }, 400, 'limits.maxApiCallsPerHour'],
      ['POST', '/v1/admin/tenants', { name: 'frac-co', limits: { maxConcurrentProcessing: 1.5 } }, 400, 'limits.maxConcurrentProcessing'],
      ['POST', '/v1/admin/tenants', { name: 'odd-co', limits: { maxWidgets: 3 } }, 400, 'limits.maxWidgets'],
      ['POST', '/v1/admin/tenants', { name: 'Not A Slug!' }, 400, 'name'],
      ['POST', '/v1/admin/tenants', {}, 400, 'name'],
      ['POST', '/v1/admin/tenants', { name: 'bad-input' }, 409, 'name'],
      ['POST', `/v1/admin/tenants/${existing.id}/keys`, { name: 'k', scopes: ['read', 'delete'] }, 400, 'scopes.1'],
      ['POST', `/v1/admin/tenants/${existing.id}/keys`, { name: 'k', scopes: [] }, 400, 'scopes'],
      ['POST', `/v1/admin/tenants/${existing.id}/keys`, { name: 'k', scopes: ['read'], expiresAt: '2001-01-01T00:00:00Z' }, 400, 'expiresAt'],
      ['POST', `/v1/admin/tenants/${existing.id}/keys`, { name: 'k', scopes: ['read'], expiresAt: 'tomorrow' }, 400, 'expiresAt'],
      ['POST', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000/keys', { name: 'k', scopes: ['read'] }, 404, 'id'],
      ['POST', '/v1/admin/tenants/not-a-uuid/keys', { name: 'k', scopes: ['read'] }, 404, 'id'],
      ['PATCH', `/v1/admin/tenants/${existing.id}`, { tier: 'gold' }, 400, 'tier'],
      ['PATCH', `/v1/admin/tenants/${existing.id}`, {}, 400, 'tier'],
      ['PATCH', `/v1/admin/tenants/${existing.id}`, { limits: { maxDocumentsPerKnowledgeBase: -5 } }, 400, 'limits.maxDocumentsPerKnowledgeBase'],
      ['PATCH', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000', { tier: 'starter' }, 404, 'id'],
      ['DELETE', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000', undefined, 404, 'id'],
      ['DELETE', `/v1/admin/tenants/${existing.id}/keys/00000000-0000-4000-8000-000000000000`, undefined, 404, 'keyId'],
    ];
    for (const [method, url, body, status, field] of cases) {
      const res = await admin(method, url, body);
      expect([method, url, res.status, res.json?.error?.field]).toEqual([method, url, status, field]);
      expect(typeof res.json.error.message).toBe('string');
    }
    for (const [method, url] of [
      ['GET', '/v1/admin/tenants'],
      ['POST', '/v1/admin/tenants'],
      ['GET', `/v1/admin/tenants/${existing.id}`],
      ['PATCH', `/v1/admin/tenants/${existing.id}`],
      ['DELETE', `/v1/admin/tenants/${existing.id}`],
      ['POST', `/v1/admin/tenants/${existing.id}/keys`],
      ['GET', `/v1/admin/tenants/${existing.id}/keys`],
      ['DELETE', `/v1/admin/tenants/${existing.id}/keys/${existing.keyId}`],
    ] as const) {
      for (const key of [DEV_KEY, existing.key]) {
        const res = await api.send(method, url, { key, ...(method === 'GET' ? {} : { body: { name: 'x', tier: 'starter', scopes: ['admin'] } }) });
        expect([method, url, res.status, res.json.error.code]).toEqual([method, url, 403, 'forbidden']);
        expect(res.json.error.message).toContain('admin scope');
      }
    }
    expect({ tenants: await api.db.tenant.count(), keys: await api.db.apiKey.count() }).toEqual(before);
    expect((await admin('GET', `/v1/admin/tenants/${existing.id}`)).json).toMatchObject({
      name: 'bad-input',
      tier: 'professional',
      limits: null,
      deletedAt: null,
    });
  });
});

describe('tenant and key management', () => {
  it('creates, lists, shows and changes tenants; limit overrides are stored and cleared', async () => {
    const created = await admin('POST', '/v1/admin/tenants', {
      name: 'acme',
      tier: 'starter',
      limits: { maxApiCallsPerHour: 600, maxVectorOperationsPerMinute: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'acme', tier: 'starter', limits: { maxApiCallsPerHour: 600, maxVectorOperationsPerMinute: 0 } });
    const patched = await admin('PATCH', `/v1/admin/tenants/${created.json.id}`, { tier: 'enterprise', limits: null });
    expect(patched.json).toMatchObject({ id: created.json.id, tier: 'enterprise', limits: null });
    expect((await admin('GET', `/v1/admin/tenants/${created.json.id}`)).json).toEqual(patched.json);
    const names = (await admin('GET', '/v1/admin/tenants')).json.tenants.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['acme', 'admin', 'dev']));
  });

  it('issues a kbf_ key with 256 random bits once, stores only its hash, lists it by prefix, records last use in batches', async () => {
    const tenant = await newTenant('keys-co', ['read']);
    expect(tenant.key).toMatch(/^kbf_[A-Za-z0-9_-]{43}$/);
    const row = await api.db.apiKey.findUnique({ where: { keyHash: hashApiKey(tenant.key) } });
    expect(row).toMatchObject({ id: tenant.keyId, prefix: tenant.key.slice(0, 12), scopes: ['read'] });
    const [{ n }] = await api.db.$queryRaw<
      [{ n: bigint }]
    >`SELECT count(*) AS n FROM api_keys WHERE key_hash = ${tenant.key} OR prefix = ${tenant.key} OR name = ${tenant.key}`;
    expect(Number(n)).toBe(0);
    const listed = await admin('GET', `/v1/admin/tenants/${tenant.id}/keys`);
    expect(listed.text).not.toContain(tenant.key);
    expect(listed.json.keys).toEqual([
      expect.objectContaining({ id: tenant.keyId, name: 'keys-co-key', prefix: tenant.key.slice(0, 12), scopes: ['read'], lastUsedAt: null, revokedAt: null }),
    ]);

    const recorder = new KeyUseRecorder(api.tenants, log, 60_000);
    recorder.record(tenant.keyId);
    recorder.record(tenant.keyId);
    await recorder.close();
    const [key] = (await admin('GET', `/v1/admin/tenants/${tenant.id}/keys`)).json.keys;
    expect(Date.parse(key.lastUsedAt)).toBeGreaterThan(Date.parse(key.createdAt) - 1000);
  });

  it("enforces scopes on every route: a read key cannot submit work, a write key cannot read, every tenant's queue figures need admin", async () => {
    const reader = await newTenant('reader-co', ['read']);
    const writer = await newTenant('writer-co', ['write']);
    expect((await api.send('GET', '/v1/knowledge-bases', { key: reader.key })).status).toBe(200);
    for (const [method, url, body] of [
      ['POST', '/v1/crawl', { url: 'https://example.com/', knowledgeBase: 'docs' }],
      ['POST', '/v1/scrape', { url: 'https://example.com/' }],
      ['POST', '/v1/records', [{ id: 'r1', body: 'text' }]],
      ['POST', '/v1/cases', { subject: 's', description: 'd' }],
      ['POST', '/v1/knowledge', { title: 't', summary: 's' }],
    ] as const) {
      const res = await api.send(method, url, { key: reader.key, body });
      expect([url, res.status, res.json.error.code]).toEqual([url, 403, 'forbidden']);
      expect(res.json.error.message).toContain('write scope');
    }
    for (const url of ['/v1/knowledge-bases', '/v1/cases', '/v1/knowledge', '/v1/dead-letters']) {
      const res = await api.send('GET', url, { key: writer.key });
      expect([url, res.status]).toEqual([url, 403]);
      expect(res.json.error.message).toContain('read scope');
    }
    const search = await api.send('POST', '/v1/search', { key: writer.key, body: { query: 'x' } });
    expect([search.status, search.json.error.message]).toEqual([403, expect.stringContaining('read scope')]);
    // Queue figures of every tenant need the admin key; a tenant key gets its own (scope tenant).
    for (const url of ['/v1/queues', '/v1/stats']) {
      const res = await api.send('GET', url, { key: reader.key });
      expect([url, res.status, res.json.scope]).toEqual([url, 200, 'tenant']);
    }
    const schedules = await api.send('GET', '/v1/schedules', { key: reader.key });
    expect([schedules.status, schedules.json.error.message]).toEqual([403, expect.stringContaining('admin scope')]);
    expect(await api.db.task.count({ where: { tenantId: reader.id } })).toBe(0);
  });

  it('a key revoked through one API instance is refused by another within 5 s, and a restart does not bring it back', async () => {
    const tenant = await newTenant('revoke-co');
    expect((await replica.send('GET', '/v1/knowledge-bases', { key: tenant.key })).status).toBe(200);
    const revoked = await admin('DELETE', `/v1/admin/tenants/${tenant.id}/keys/${tenant.keyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    const deadline = Date.parse(revoked.json.revokedAt) + REFUSED_WITHIN_MS;
    expect(await becomes(async () => (await replica.send('GET', '/v1/knowledge-bases', { key: tenant.key })).status === 401, deadline)).toBeDefined();
    expect((await api.send('GET', '/v1/knowledge-bases', { key: tenant.key })).status).toBe(401);

    // An env admin key revoked through the API stays revoked when the process starts again with it.
    const envKey = `env-admin-${STRONG_KEY}`;
    await bootstrapEnvKeys(bootstrapKeysOf({ NODE_ENV: 'test', KBFLOW_ADMIN_API_KEY: envKey, KBFLOW_DEV_API_KEY: undefined }), api.tenants, log);
    expect((await api.tenants.authenticate(envKey))?.scopes).toEqual(['read', 'write', 'admin']);
    const envRow = (await api.db.apiKey.findUnique({ where: { keyHash: hashApiKey(envKey) } }))!;
    expect((await admin('DELETE', `/v1/admin/tenants/${envRow.tenantId}/keys/${envRow.id}`)).status).toBe(200);
    await bootstrapEnvKeys(bootstrapKeysOf({ NODE_ENV: 'test', KBFLOW_ADMIN_API_KEY: envKey, KBFLOW_DEV_API_KEY: undefined }), api.tenants, log);
    expect(await api.tenants.authenticate(envKey)).toBeUndefined();
  });

  it('an expired key is refused within 5 s of its expiry, from the cache too', async () => {
    const tenant = await newTenant('expiry-co');
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const key = await admin('POST', `/v1/admin/tenants/${tenant.id}/keys`, { name: 'short', scopes: ['read'], expiresAt });
    expect(key.json.expiresAt).toBe(expiresAt);
    expect((await replica.send('GET', '/v1/knowledge-bases', { key: key.json.key })).status).toBe(200);
    expect(
      await becomes(
        async () => (await replica.send('GET', '/v1/knowledge-bases', { key: key.json.key })).status === 401,
        Date.parse(expiresAt) + REFUSED_WITHIN_MS,
      ),
    ).toBeDefined();
  });

  it('in production the dev tenant and its key are never created', async () => {
    const devKey = `prod-dev-${STRONG_KEY}`;
    const adminKey = `prod-admin-${STRONG_KEY}`;
    await bootstrapEnvKeys(bootstrapKeysOf({ NODE_ENV: 'production', KBFLOW_ADMIN_API_KEY: adminKey, KBFLOW_DEV_API_KEY: devKey }), api.tenants, log);
    expect(await api.db.apiKey.findUnique({ where: { keyHash: hashApiKey(devKey) } })).toBeNull();
    expect((await api.tenants.authenticate(adminKey))?.isAdmin).toBe(true);
  });
});

describe('isolation: two tenants with data in the same knowledge base slug', () => {
  it('every GET route and every read of the other tenant answers only with its own data', async () => {
    const seeded: Record<string, { tenant: Tenant; taskIds: string[]; caseId: string; articleId: string }> = {};
    for (const name of ['iso-alpha', 'iso-bravo']) {
      const tenant = await newTenant(name);
      const as = { key: tenant.key };
      const records = await api.send('POST', '/v1/records?knowledgeBase=shared', {
        ...as,
        body: [{ id: 'same-id', title: `${name} record`, body: `${name} private body` }],
      });
      expect(records.status).toBe(202);
      const scrape = await api.send('POST', '/v1/scrape', { ...as, body: { url: `https://${name}.example.com/page`, knowledgeBase: 'shared' } });
      expect(scrape.status).toBe(202);
      const createdCase = await api.send('POST', '/v1/cases', {
        ...as,
        body: { externalId: 'HD-1', subject: `${name} printer`, description: `${name} case description`, knowledgeBase: 'shared' },
      });
      expect(createdCase.status).toBe(201);
      const article = await api.send('POST', '/v1/knowledge', {
        ...as,
        body: { title: `${name} article`, summary: `${name} summary`, knowledgeBase: 'shared' },
      });
      expect(article.status).toBe(201);
      await deadLetterFor(tenant.id, name);
      seeded[name] = { tenant, taskIds: [records.json.taskId, scrape.json.taskId], caseId: createdCase.json.id, articleId: article.json.id };
    }
    const getRoutes = api.app.locals.routes.routes().filter((r) => r.method === 'get' && !r.path.includes(':') && r.spec.access !== 'admin');
    expect(getRoutes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/v1/knowledge-bases', '/v1/cases', '/v1/knowledge', '/v1/dead-letters', '/v1/workers', '/v1/circuit-breakers']),
    );
    for (const [me, other] of [
      ['iso-alpha', 'iso-bravo'],
      ['iso-bravo', 'iso-alpha'],
    ] as const) {
      const mine = seeded[me]!;
      const theirs = seeded[other]!;
      const as = { key: mine.tenant.key };
      const secrets = [other, theirs.tenant.id, ...theirs.taskIds, theirs.caseId, theirs.articleId];
      for (const route of getRoutes) {
        const url = route.path === '/v1/search/analytics' ? `${route.path}?knowledgeBase=shared` : route.path;
        const res = await api.send('GET', url, as);
        expect([url, res.status < 500]).toEqual([url, true]);
        for (const secret of secrets) expect([url, res.text.includes(secret)]).toEqual([url, false]);
        expect([url, res.text.includes('host-secret')]).toEqual([url, false]);
      }
      // Queue figures: the tenant's own unfinished tasks and their pages, none of the other's.
      const active = (tenantId: string) => api.db.task.count({ where: { tenantId, state: { in: ['queued', 'running', 'cancelling'] } } });
      const queues = (await api.send('GET', '/v1/queues', as)).json;
      const counted = Object.values(queues.tasks as Record<string, number>).reduce((a, b) => a + b, 0);
      expect([queues.scope, counted]).toEqual(['tenant', await active(mine.tenant.id)]);
      expect(counted).toBeGreaterThan(0);
      expect(counted).toBeLessThan(counted + (await active(theirs.tenant.id)));
      expect(queues.pages.discovered).toBe(await api.db.taskPage.count({ where: { tenantId: mine.tenant.id, status: 'discovered' } }));
      expect(queues.queues).toBeUndefined();
      const stats = (await api.send('GET', '/v1/stats', as)).json;
      expect(stats).toMatchObject({ scope: 'tenant', windowSeconds: 900, tasks: { completed: 0, failed: 0, cancelled: 0 } });
      const bases = (await api.send('GET', '/v1/knowledge-bases', as)).json.knowledgeBases;
      expect(bases).toEqual([expect.objectContaining({ slug: 'shared' })]);
      expect((await api.send('GET', '/v1/cases?knowledgeBase=shared', as)).json.cases.map((c: { id: string }) => c.id)).toEqual([mine.caseId]);
      expect((await api.send('GET', '/v1/knowledge?knowledgeBase=shared', as)).json.articles.map((a: { id: string }) => a.id)).toEqual([mine.articleId]);
      const deadLetters = (await api.send('GET', '/v1/dead-letters', as)).json;
      expect([deadLetters.total, deadLetters.deadLetters.map((d: { jobId: string }) => d.jobId)]).toEqual([1, [me]]);
      for (const taskId of theirs.taskIds) expect((await api.send('GET', `/v1/tasks/${taskId}`, as)).status).toBe(404);
      for (const taskId of mine.taskIds) expect((await api.send('GET', `/v1/tasks/${taskId}`, as)).status).toBe(200);
      for (const [method, url, body] of [
        ['GET', `/v1/cases/${theirs.caseId}`, undefined],
        ['PATCH', `/v1/cases/${theirs.caseId}`, { subject: 'taken over' }],
        ['DELETE', `/v1/cases/${theirs.caseId}`, undefined],
        ['GET', `/v1/knowledge/${theirs.articleId}`, undefined],
        ['PATCH', `/v1/knowledge/${theirs.articleId}`, { title: 'taken over' }],
        ['DELETE', `/v1/knowledge/${theirs.articleId}`, undefined],
      ] as const) {
        const res = await api.send(method, url, { ...as, ...(body ? { body } : {}) });
        expect([method, url, res.status]).toEqual([method, url, 404]);
      }
    }
    // The admin key sees both tenants' dead letters, stack traces included.
    const all = (await admin('GET', '/v1/dead-letters')).json;
    expect(all.deadLetters.map((d: { jobId: string }) => d.jobId)).toEqual(expect.arrayContaining(['iso-alpha', 'iso-bravo']));
    expect(all.text ?? JSON.stringify(all)).toContain('host-secret');
  });
});

describe("a tenant key's queue figures", () => {
  it("/v1/stats counts the tenant's own tasks finished in the window, with their durations, and none of another tenant's", async () => {
    const [one, two] = [await newTenant('stats-one'), await newTenant('stats-two')];
    const submitted = await api.send('POST', '/v1/scrape', { key: one.key, body: { url: 'https://stats-one.example.com/a' } });
    expect(submitted.status).toBe(202);
    const created = (await api.db.task.findUniqueOrThrow({ where: { id: submitted.json.taskId } })).createdAt;
    await api.db.task.update({ where: { id: submitted.json.taskId }, data: { state: 'failed', finishedAt: new Date(created.getTime() + 1500) } });
    const mine = (await api.send('GET', '/v1/stats', { key: one.key })).json;
    expect(mine).toEqual({ scope: 'tenant', windowSeconds: 900, tasks: { completed: 0, failed: 1, cancelled: 0 }, durationMs: { p50: 1500, p95: 1500 } });
    const theirs = (await api.send('GET', '/v1/stats', { key: two.key })).json;
    expect(theirs).toEqual({ scope: 'tenant', windowSeconds: 900, tasks: { completed: 0, failed: 0, cancelled: 0 }, durationMs: { p50: null, p95: null } });
    expect((await api.send('GET', '/v1/queues', { key: two.key })).json).toEqual({ scope: 'tenant', tasks: {}, pages: {} });
  });
});

describe('tenant purge', () => {
  let stopListening: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await stopListening?.();
  });

  it('leaves no row, vector, cache entry or queued job of the tenant, and spares the others', async () => {
    const doomed = await newTenant('purge-doomed');
    const kept = await newTenant('purge-kept');
    for (const tenant of [doomed, kept]) {
      const as = { key: tenant.key };
      expect((await api.send('POST', '/v1/records?knowledgeBase=shared', { ...as, body: [{ id: 'r1', title: 't', body: 'a body to chunk' }] })).status).toBe(
        202,
      );
      expect(
        (
          await api.send('POST', '/v1/cases', {
            ...as,
            body: { subject: 's', description: 'd', knowledgeBase: 'shared' },
            headers: { 'idempotency-key': `idem-${tenant.name}` },
          })
        ).status,
      ).toBe(201);
      expect((await api.send('POST', '/v1/scrape', { ...as, body: { url: 'https://purge.example.com/' } })).status).toBe(202);
      expect(
        (await api.send('POST', '/v1/sources', { ...as, body: { type: 'site', url: `https://${tenant.name}.example.com/`, schedule: { every: '6h' } } }))
          .status,
      ).toBe(201);
      await deadLetterFor(tenant.id, tenant.name);
    }
    const schedulersOf = async (tenantId: string) =>
      (await api.producer.queue(QueueName.maintenance).getJobSchedulers(0, -1)).filter(
        (s) => (s.template?.data as { tenantId?: string } | undefined)?.tenantId === tenantId,
      ).length;
    expect(await schedulersOf(doomed.id)).toBe(1);
    await vectors.ensureCollection(8);
    const vector = [1, 0, 0, 0, 0, 0, 0, 0];
    await vectors.upsert([
      {
        id: '00000000-0000-4000-8000-00000000d001',
        vector,
        payload: { tenantId: doomed.id, knowledgeBaseId: doomed.id, documentId: doomed.id, contentType: 'record' },
      },
      {
        id: '00000000-0000-4000-8000-00000000d002',
        vector,
        payload: { tenantId: doomed.id, knowledgeBaseId: doomed.id, documentId: doomed.id, contentType: 'record' },
      },
      {
        id: '00000000-0000-4000-8000-00000000c001',
        vector,
        payload: { tenantId: kept.id, knowledgeBaseId: kept.id, documentId: kept.id, contentType: 'record' },
      },
    ]);
    // An embedding cache as the embedder and aggregator processes hold one, listening for purges.
    const cache = new CachedEmbedder(new HashingEmbedder(), { maxBytes: 64 * 1024 * 1024 });
    await cache.embed(['cached text'], { tenantId: doomed.id });
    await cache.embed(['cached text'], { tenantId: kept.id });
    stopListening = await onTenantPurged(api.redis, api.prefix, (tenantId) => cache.purgeTenant(tenantId));

    const tenantTables = (
      await api.db.$queryRaw<
        { table_name: string }[]
      >`SELECT table_name::text AS table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = current_schema() AND table_name <> 'tenant_purges'`
    ).map((r) => r.table_name);
    expect(tenantTables).toEqual(
      expect.arrayContaining(['documents', 'chunks', 'tasks', 'task_pages', 'cases', 'api_keys', 'idempotency_keys', 'knowledge_bases', 'sources']),
    );
    const rowsOf = async (tenantId: string) => {
      const counts: Record<string, number> = {};
      for (const table of tenantTables) {
        const [{ n }] = await api.db.$queryRawUnsafe<[{ n: bigint }]>(`SELECT count(*) AS n FROM "${table}" WHERE tenant_id = $1::uuid`, tenantId);
        if (Number(n) > 0) counts[table] = Number(n);
      }
      return counts;
    };
    const jobsOf = async (tenantId: string) => {
      let n = 0;
      for (const name of ALL_QUEUES) {
        const jobs = await api.producer.queue(name).getJobs(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'failed', 'completed'], 0, -1);
        n += jobs.filter(
          (j) => j && ((j.data as { tenantId?: string }).tenantId === tenantId || (j.data as { data?: { tenantId?: string } }).data?.tenantId === tenantId),
        ).length;
      }
      return n;
    };
    const keptBefore = { rows: await rowsOf(kept.id), jobs: await jobsOf(kept.id) };
    expect(Object.keys(await rowsOf(doomed.id))).toEqual(expect.arrayContaining(['documents', 'chunks', 'tasks', 'cases', 'idempotency_keys', 'sources']));
    expect(await jobsOf(doomed.id)).toBeGreaterThanOrEqual(3);

    const started = await admin('DELETE', `/v1/admin/tenants/${doomed.id}`);
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ tenantId: doomed.id, tenantName: 'purge-doomed', status: 'running' });
    expect(started.headers.get('location')).toBe(`/v1/admin/tenants/${doomed.id}/purge`);
    expect(
      await becomes(async () => (await replica.send('GET', '/v1/knowledge-bases', { key: doomed.key })).status === 401, Date.now() + REFUSED_WITHIN_MS),
    ).toBeDefined();
    let purge: { status: string } | undefined;
    await becomes(async () => {
      purge = (await admin('GET', `/v1/admin/tenants/${doomed.id}/purge`)).json;
      return purge?.status !== 'running';
    }, Date.now() + 30_000);
    expect(purge).toMatchObject({ status: 'completed', error: null });

    expect(await rowsOf(doomed.id)).toEqual({});
    expect(await api.db.tenant.count({ where: { id: doomed.id } })).toBe(0);
    expect(await vectors.count({ tenantId: doomed.id })).toBe(0);
    expect(await jobsOf(doomed.id)).toBe(0);
    expect(await schedulersOf(doomed.id)).toBe(0);
    expect(await schedulersOf(kept.id)).toBe(1);
    expect(await becomes(async () => cache.sizeOf(doomed.id) === 0, Date.now() + 5_000)).toBeDefined();
    expect((await admin('GET', `/v1/admin/tenants/${doomed.id}`)).status).toBe(404);

    expect({ rows: await rowsOf(kept.id), jobs: await jobsOf(kept.id) }).toEqual(keptBefore);
    expect(await vectors.count({ tenantId: kept.id })).toBe(1);
    expect(cache.sizeOf(kept.id)).toBe(1);
    expect((await api.send('GET', '/v1/knowledge-bases', { key: kept.key })).status).toBe(200);
  });
});
