import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, someHandlers, QueueName } from '@kbflow/queues';
import { OTHER_KEY, startTestApi, type TestApi } from './support/test-api.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ label: 'idem' });
});

afterAll(async () => {
  await api.close();
});

let n = 0;
/** A key no other test uses. */
const freshKey = () => `key-${Date.now()}-${n++}`;
const withKey = (key: string) => ({ 'Idempotency-Key': key });
const crawl = (path: string) => ({ url: `http://example.com/${path}`, maxPages: 5 });

describe('Idempotency-Key', () => {
  it('a repeat with the same key and body returns the stored response and enqueues nothing', async () => {
    const key = freshKey();
    const first = await api.send('POST', '/v1/crawl', { body: crawl('a'), headers: withKey(key) });
    expect(first.status).toBe(202);
    const tasks = await api.db.task.count();
    const jobs = await api.jobTotal();

    const second = await api.send('POST', '/v1/crawl', { body: crawl('a'), headers: withKey(key) });
    expect(second.status).toBe(202);
    expect(second.json.taskId).toBe(first.json.taskId);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('content-type')).toMatch(/application\/json/);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await api.db.task.count()).toBe(tasks);
    expect(await api.jobTotal()).toBe(jobs);
  });

  it('the same key with another body, or on another endpoint, is a 422 idempotency_key_reused', async () => {
    const key = freshKey();
    expect((await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/b' }, headers: withKey(key) })).status).toBe(202);
    const tasks = await api.db.task.count();
    for (const [path, body] of [
      ['/v1/scrape', { url: 'http://example.com/c' }],
      ['/v1/scrape', { url: 'http://example.com/b', engine: 'http' }],
      ['/v1/crawl', { url: 'http://example.com/b' }],
    ] as const) {
      const res = await api.send('POST', path, { body, headers: withKey(key) });
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
      expect(res.json.error.message).toContain('POST /v1/scrape');
    }
    expect(await api.db.task.count()).toBe(tasks);
  });

  it("the same key and body on another query string is another request: a 422, not the first one's answer", async () => {
    const key = freshKey();
    const first = await api.send('POST', '/v1/crawl?knowledgeBase=a', { body: crawl('q'), headers: withKey(key) });
    expect(first.status).toBe(202);
    const tasks = await api.db.task.count();
    const other = await api.send('POST', '/v1/crawl?knowledgeBase=b', { body: crawl('q'), headers: withKey(key) });
    expect(other.status).toBe(422);
    expect(other.json.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
    expect(other.json.error.message).toContain('POST /v1/crawl?knowledgeBase=a');
    expect(await api.db.task.count()).toBe(tasks);
    const repeat = await api.send('POST', '/v1/crawl?knowledgeBase=a', { body: crawl('q'), headers: withKey(key) });
    expect([repeat.status, repeat.json.taskId, repeat.headers.get('idempotent-replayed')]).toEqual([202, first.json.taskId, 'true']);
  });

  it('concurrent duplicates create one task: the others get its response or a 409 to retry', async () => {
    const key = freshKey();
    const tasks = await api.db.task.count();
    const results = await Promise.all(Array.from({ length: 10 }, () => api.send('POST', '/v1/crawl', { body: crawl('race'), headers: withKey(key) })));
    const accepted = results.filter((r) => r.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((r) => r.json.taskId)).size).toBe(1);
    const others = results.filter((r) => r.status !== 202);
    expect(others.every((r) => r.status === 409 && r.json.error.code === 'idempotency_key_in_use' && r.headers.get('retry-after') === '1')).toBe(true);
    expect(await api.db.task.count()).toBe(tasks + 1);
    // Once the first has answered, every retry gets the stored answer.
    const retry = await api.send('POST', '/v1/crawl', { body: crawl('race'), headers: withKey(key) });
    expect([retry.status, retry.json.taskId]).toEqual([202, accepted[0]!.json.taskId]);
  });

  it.each([
    ['empty', ''],
    ['201 characters', 'k'.repeat(201)],
    ['a non-ASCII character', 'cl\u00e9'],
    ['a control character', 'a\tb'],
  ])('a key that is %s is a 400 naming Idempotency-Key', async (_label, key) => {
    const tasks = await api.db.task.count();
    const res = await api.send('POST', '/v1/crawl', { body: crawl('bad-key'), headers: withKey(key) });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'invalid_field', field: 'Idempotency-Key' });
    expect(await api.db.task.count()).toBe(tasks);
  });

  it('a 200-character key is accepted', async () => {
    expect((await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/long' }, headers: withKey('k'.repeat(200)) })).status).toBe(202);
  });

  it('a rejected request releases its key: nothing is stored and a corrected retry with the same key runs', async () => {
    const key = freshKey();
    const bad = await api.send('POST', '/v1/crawl', { body: { url: 'ftp://example.com/' }, headers: withKey(key) });
    expect(bad.status).toBe(400);
    expect(await api.db.idempotencyKey.count({ where: { key } })).toBe(0);
    const good = await api.send('POST', '/v1/crawl', { body: crawl('fixed'), headers: withKey(key) });
    expect(good.status).toBe(202);
    expect(await api.db.idempotencyKey.findFirst({ where: { key } })).toMatchObject({ status: 202, response: good.text, method: 'POST', path: '/v1/crawl' });
  });

  it('keys belong to a tenant: another tenant reusing one gets its own task', async () => {
    const key = freshKey();
    const mine = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/t' }, headers: withKey(key) });
    const theirs = await api.send('POST', '/v1/scrape', { key: OTHER_KEY, body: { url: 'http://example.com/t' }, headers: withKey(key) });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(theirs.json.taskId).not.toBe(mine.json.taskId);
  });

  it('an expired key (older than 24 h) no longer deduplicates, and expired keys are swept', async () => {
    const key = freshKey();
    const first = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/old' }, headers: withKey(key) });
    await api.db.$executeRaw`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`;
    const again = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/old' }, headers: withKey(key) });
    expect(again.status).toBe(202);
    expect(again.json.taskId).not.toBe(first.json.taskId);
    const row = await api.db.idempotencyKey.findFirst({ where: { key } });
    expect(row!.expiresAt.getTime() - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);
  });

  it('a reservation abandoned by a dead process holds until its lease ends, then the same request takes it over', async () => {
    const key = freshKey();
    const body = { url: 'http://example.com/abandoned' };
    // A process that died mid-request leaves its row reserved (no status): make one.
    await api.send('POST', '/v1/scrape', { body, headers: withKey(key) });
    await api.db.$executeRaw`UPDATE idempotency_keys SET status = NULL, response = NULL, locked_until = now() + interval '1 minute' WHERE key = ${key}`;
    const held = await api.send('POST', '/v1/scrape', { body, headers: withKey(key) });
    expect([held.status, held.json.error.code]).toEqual([409, 'idempotency_key_in_use']);
    const other = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/else' }, headers: withKey(key) });
    expect(other.status).toBe(422);

    await api.db.$executeRaw`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = ${key}`;
    expect((await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/else' }, headers: withKey(key) })).status).toBe(422);
    const taken = await api.send('POST', '/v1/scrape', { body, headers: withKey(key) });
    expect(taken.status).toBe(202);
    expect((await api.db.idempotencyKey.findFirst({ where: { key } }))!.status).toBe(202);
  });

  it('a response whose store fails at first is stored by a retry: the repeat is answered, not run a second time', async () => {
    // PostgreSQL refuses the first two writes of a response (a trigger of
    // this test's own database), as a connection blinking would. The count is
    // a sequence: nextval() survives the rollback the exception causes.
    await api.db.$executeRawUnsafe(`CREATE SEQUENCE store_attempts`);
    await api.db.$executeRawUnsafe(`
      CREATE FUNCTION fail_response_store() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status IS NULL AND NEW.status IS NOT NULL THEN
          IF nextval('store_attempts') <= 2 THEN RAISE EXCEPTION 'injected: the response store failed'; END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await api.db.$executeRawUnsafe(`CREATE TRIGGER fail_response_store BEFORE UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION fail_response_store()`);
    try {
      const key = freshKey();
      const first = await api.send('POST', '/v1/crawl', { body: crawl('store-fails'), headers: withKey(key) });
      expect(first.status).toBe(202);
      // Two refused, the third stored it.
      expect(Number((await api.db.$queryRawUnsafe<{ last_value: bigint }[]>(`SELECT last_value FROM store_attempts`))[0]!.last_value)).toBe(3);
      const tasks = await api.db.task.count();
      const repeat = await api.send('POST', '/v1/crawl', { body: crawl('store-fails'), headers: withKey(key) });
      expect([repeat.status, repeat.json.taskId, repeat.headers.get('idempotent-replayed')]).toEqual([202, first.json.taskId, 'true']);
      expect(await api.db.task.count()).toBe(tasks);
    } finally {
      await api.db.$executeRawUnsafe(`DROP TRIGGER fail_response_store ON idempotency_keys`);
      await api.db.$executeRawUnsafe(`DROP FUNCTION fail_response_store()`);
      await api.db.$executeRawUnsafe(`DROP SEQUENCE store_attempts`);
    }
  });

  it('a synchronous endpoint stores its result too: a repeated /v1/embed is answered without a second job', async () => {
    let embedded = 0;
    const worker = createWorker({
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, {
        'embed-texts': async (data) => {
          embedded++;
          return { model: 'test', dimensions: 2, vectors: data.texts.map((_, i) => [i, embedded]) };
        },
        'embed-chunks': async () => undefined,
      }),
      connection: api.redis,
      producer: api.producer,
      log: createLogger('idem-test', 'silent'),
      registry: createMetrics('idem-test').registry,
    });
    try {
      const key = freshKey();
      const first = await api.send('POST', '/v1/embed', { body: { texts: ['one', 'two'] }, headers: withKey(key) });
      expect(first.status).toBe(200);
      const second = await api.send('POST', '/v1/embed', { body: { texts: ['one', 'two'] }, headers: withKey(key) });
      expect(second.status).toBe(200);
      expect(second.json).toEqual(first.json);
      expect(embedded).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it('requests without the header are not deduplicated', async () => {
    const a = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/plain' } });
    const b = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/plain' } });
    expect(a.json.taskId).not.toBe(b.json.taskId);
  });
});
