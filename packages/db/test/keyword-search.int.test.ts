// The bounded full-text search (keyword-search.ts) on a real PostgreSQL: the
// candidate cap never hides a passage the scope keeps, the two-term stage
// gives way to the OR query when too few passages match two terms, and
// common terms (by pg_stats) do not stop rare ones from finding theirs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@kbflow/testing';
import { createDb, DocumentRepository, TenantRepository, type Db } from '../src/index.ts';

let database: TestDatabase;
let db: Db;
let documents: DocumentRepository;
let tenantId: string;
let kbBig: string;
let kbSmall: string;

/** One document of one chunk per text, in `knowledgeBaseId`; returns the chunk ids in order. */
async function insert(knowledgeBaseId: string, texts: string[]): Promise<string[]> {
  const docIds = texts.map(() => randomUUID());
  const chunkIds = texts.map(() => randomUUID());
  await db.$executeRaw`
    INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, status, updated_at)
    SELECT d.id, ${tenantId}::uuid, ${knowledgeBaseId}::uuid, 'record', 'test', 'record://test/' || d.id, 't', d.text, d.id::text, 'indexed', now()
    FROM unnest(${docIds}::uuid[], ${texts}::text[]) AS d(id, text)`;
  await db.$executeRaw`
    INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
    SELECT c.id, ${tenantId}::uuid, c.document_id, 0, '', c.text, c.id::text
    FROM unnest(${chunkIds}::uuid[], ${docIds}::uuid[], ${texts}::text[]) AS c(id, document_id, text)`;
  await db.$executeRaw`INSERT INTO indexed_chunks (chunk_id, tenant_id) SELECT id, tenant_id FROM chunks WHERE id = ANY(${chunkIds}::uuid[])`;
  return chunkIds;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  documents = new DocumentRepository(db);
  const tenants = new TenantRepository(db);
  tenantId = await tenants.ensureTenantWithKey('kw-test', 'kw-test-key-123456');
  kbBig = await tenants.knowledgeBaseId(tenantId, 'big');
  kbSmall = await tenants.knowledgeBaseId(tenantId, 'small');
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

describe('boundedKeywordSearch', () => {
  it('finds the few passages of a narrow scope behind more than the candidate cap of better-ranked ones', async () => {
    // 260 passages of another knowledge base outrank the small one's three
    // (both words, repeated): the capped candidates (200) hold none of them.
    await insert(
      kbBig,
      Array.from({ length: 260 }, (_, i) => `walrus harbour walrus harbour walrus note ${i}`),
    );
    const small = await insert(kbSmall, ['walrus harbour once', 'a walrus only', 'the harbour only']);
    const { hits, complete } = await documents.keywordSearch({ tenantId, knowledgeBaseId: kbSmall }, 'walrus harbour', 5);
    expect(complete).toBe(true);
    expect(hits.map((h) => h.id).sort()).toEqual([...small].sort());
    // The passage with both words first: the two-term stage alone had too few, the OR query filled the list.
    expect(hits[0]!.id).toBe(small[0]);
  });

  it('ranks passages matching two terms above those matching one, and falls back to one-term matches', async () => {
    const [both, one] = await insert(kbSmall, ['zephyr quokka lantern', 'zephyr alone here']);
    const { hits } = await documents.keywordSearch({ tenantId, knowledgeBaseId: kbSmall }, 'zephyr quokka', 10);
    expect(hits.map((h) => h.id)).toEqual([both, one]);
  });

  it("with a term common by pg_stats in the question, the rare term's passage comes first and the list is still filled", async () => {
    // "common" in every passage of the big knowledge base; ANALYZE records it among the most common lexemes.
    await insert(
      kbBig,
      Array.from({ length: 1200 }, (_, i) => `common filler text number ${i}`),
    );
    const [rare] = await insert(kbBig, ['common platypus sighting']);
    await db.$executeRawUnsafe('ANALYZE chunks');
    // A new client: the lexeme statistics are kept per client, and this one read them before the ANALYZE.
    const fresh = createDb(database.url);
    try {
      const { hits } = await new DocumentRepository(fresh).keywordSearch({ tenantId, knowledgeBaseId: kbBig }, 'common platypus', 3);
      expect(hits[0]!.id).toBe(rare);
      expect(hits).toHaveLength(3);
    } finally {
      await fresh.$disconnect();
    }
  });

  it('with a budget, a stage cancelled by statement_timeout ends the search as incomplete, and the setting ends with it', async () => {
    // One connection, so the search and the checks after it share it.
    const single = createDb(database.url, { poolSize: 1 });
    const locker = createDb(database.url, { poolSize: 1 });
    const repo = new DocumentRepository(single);
    try {
      const whole = await repo.keywordSearch({ tenantId, knowledgeBaseId: kbSmall }, 'walrus harbour', 5, { budgetMs: 60_000 });
      expect(whole.complete).toBe(true);
      expect(whole.hits).toHaveLength(3);
      // Another transaction holds `documents` exclusively: every stage's
      // join waits on the lock until statement_timeout cancels it.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const holding = new Promise<void>((r) => (locked = r));
      const lock = locker.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE documents IN ACCESS EXCLUSIVE MODE');
          locked();
          await released;
        },
        { timeout: 60_000 },
      );
      await holding;
      try {
        const cut = await repo.keywordSearch({ tenantId, knowledgeBaseId: kbSmall }, 'walrus harbour', 5, { budgetMs: 300 });
        expect(cut).toEqual({ hits: [], complete: false });
      } finally {
        release();
        await lock;
      }
      // The budget was local to its transaction: the connection is back to no timeout.
      expect(await single.$queryRaw`SELECT current_setting('statement_timeout') AS v`).toEqual([{ v: '0' }]);
      expect(await repo.keywordSearch({ tenantId, knowledgeBaseId: kbSmall }, 'walrus harbour', 5)).toEqual(whole);
    } finally {
      await single.$disconnect();
      await locker.$disconnect();
    }
  });
});
