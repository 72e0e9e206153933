// Recrawls and deletions on a real PostgreSQL (docs/recrawls.md): a changed
// page keeps the rows of its unchanged chunks, even moved ones; a page's
// validators and links are what a recrawl may send conditionally; a gone
// page and a complete crawl's unreached pages are removed with their chunks,
// within the crawl's scope and knowledge base only; records mode=full
// removes exactly the source's records an upload no longer contains.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@kbflow/testing';
import { sha256Hex } from '@kbflow/extraction';
import {
  crawlScopePrefixes,
  createDb,
  DocumentRepository,
  RecordRepository,
  TaskRepository,
  TenantRepository,
  type ChunkInput,
  type Db,
  type PreparedRecord,
} from '../src/index.ts';

let database: TestDatabase;
let db: Db;
let tasks: TaskRepository;
let documents: DocumentRepository;
let records: RecordRepository;
let tenantId: string;
let otherTenantId: string;
let kb: string;
let otherKb: string;
let otherTenantKb: string;

const SITE = 'http://site.test';
const chunk = (position: number, text: string): ChunkInput => ({ position, heading: `H${position}`, text, hash: sha256Hex(text) });
const storePage = (url: string, texts: string[], knowledgeBaseId = kb, links: string[] = []) =>
  documents.store({
    tenantId,
    knowledgeBaseId,
    url,
    title: url,
    markdown: texts.join('\n\n'),
    contentHash: sha256Hex(texts.join('\n')),
    contentType: 'page',
    source: 'site.test',
    chunks: texts.map((t, i) => chunk(i, t)),
    page: { etag: '"e1"', lastModified: null, links },
  });
const indexAll = async (documentId: string) => {
  const rows = await db.chunk.findMany({ where: { documentId }, select: { id: true } });
  await documents.markChunksIndexed(rows.map((r) => r.id));
  await documents.completeDocument(documentId);
};
const crawlTask = (params: { maxPages?: number; seeds?: string[]; knowledgeBaseId?: string } = {}) =>
  tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId: params.knowledgeBaseId ?? kb,
    type: 'crawl',
    params: { seeds: params.seeds ?? [`${SITE}/`], maxPages: params.maxPages ?? 100, maxDepth: 3, engine: 'http', origins: [SITE], deleteUnreached: true },
  });

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { poolSize: 5 });
  tasks = new TaskRepository(db);
  documents = new DocumentRepository(db);
  records = new RecordRepository(db);
  const tenants = new TenantRepository(db);
  tenantId = await tenants.ensureTenantWithKey('recrawl-test', 'recrawl-test-key-123456');
  otherTenantId = await tenants.ensureTenantWithKey('recrawl-other', 'recrawl-other-key-123456');
  kb = await tenants.knowledgeBaseId(tenantId, 'default');
  otherKb = await tenants.knowledgeBaseId(tenantId, 'other');
  otherTenantKb = await tenants.knowledgeBaseId(otherTenantId, 'default');
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

describe('a changed page', () => {
  it('keeps the rows (and so the vectors) of unchanged chunks, even moved ones, and drops only the edited one', async () => {
    const first = await storePage(`${SITE}/edit.html`, ['alpha text', 'beta text', 'gamma text']);
    await indexAll(first.documentId);
    const before = await db.chunk.findMany({ where: { documentId: first.documentId }, orderBy: { position: 'asc' } });

    const second = await storePage(`${SITE}/edit.html`, ['inserted text', 'alpha text', 'BETA edited', 'gamma text']);
    expect(second.changed).toBe(true);
    const after = await db.chunk.findMany({ where: { documentId: first.documentId }, include: { indexed: true }, orderBy: { position: 'asc' } });
    expect(after.map((c) => c.text)).toEqual(['inserted text', 'alpha text', 'BETA edited', 'gamma text']);
    expect(after[1]!.id).toBe(before[0]!.id);
    expect(after[3]!.id).toBe(before[2]!.id);
    expect(after[1]!.indexed !== null && after[3]!.indexed !== null).toBe(true);
    expect(after[1]!.heading).toBe('H1');
    // Only the two new texts wait for the embedder.
    expect(new Set(second.pendingChunkIds)).toEqual(new Set([after[0]!.id, after[2]!.id]));
    expect(await db.chunk.count({ where: { id: before[1]!.id } })).toBe(0);
    expect(second.chunkIds).toEqual(after.map((c) => c.id));
  });

  it('an unchanged page (same hash) still refreshes its validators and links', async () => {
    const first = await storePage(`${SITE}/same.html`, ['same text'], kb, [`${SITE}/a.html`]);
    await indexAll(first.documentId);
    const again = await documents.store({
      tenantId,
      knowledgeBaseId: kb,
      url: `${SITE}/same.html`,
      title: 'x',
      markdown: 'same text',
      contentHash: sha256Hex('same text'),
      contentType: 'page',
      chunks: [chunk(0, 'same text')],
      page: { etag: '"e2"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', links: [`${SITE}/b.html`] },
    });
    expect(again.changed).toBe(false);
    const row = await db.document.findUniqueOrThrow({ where: { id: first.documentId } });
    expect([row.etag, row.lastModified, row.links]).toEqual(['"e2"', 'Tue, 01 Dec 2026 10:00:00 GMT', [`${SITE}/b.html`]]);
  });
});

describe('storedPage', () => {
  it('offers validators and the last fetch time (for sitemap lastmod) only for an indexed page whose links are stored', async () => {
    const taskId = await crawlTask();
    const before = Date.now();
    const indexed = await storePage(`${SITE}/v-indexed.html`, ['v text one'], kb, [`${SITE}/x.html`]);
    await indexAll(indexed.documentId);
    await storePage(`${SITE}/v-pending.html`, ['v text two']);
    const page = await documents.storedPage(taskId, `${SITE}/v-indexed.html`);
    expect(page).toEqual({
      documentId: indexed.documentId,
      links: [`${SITE}/x.html`],
      validators: { etag: '"e1"', lastModified: null },
      fetchedAt: expect.any(Date),
    });
    expect(page!.fetchedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const pending = await documents.storedPage(taskId, `${SITE}/v-pending.html`);
    expect([pending?.validators, pending?.fetchedAt]).toEqual([undefined, undefined]);
    expect(await documents.storedPage(taskId, `${SITE}/nothing.html`)).toBeUndefined();
    // A page of another knowledge base is not this task's.
    const other = await storePage(`${SITE}/v-other.html`, ['v text three'], otherKb);
    await indexAll(other.documentId);
    expect(await documents.storedPage(taskId, `${SITE}/v-other.html`)).toBeUndefined();
  });
});

describe('scrapeContext', () => {
  it("reads the task, the page's status and its stored page in one query, the page exactly as storedPage gives it", async () => {
    const taskId = await crawlTask();
    const indexed = await storePage(`${SITE}/c-indexed.html`, ['c text one'], kb, [`${SITE}/y.html`]);
    await indexAll(indexed.documentId);
    await storePage(`${SITE}/c-pending.html`, ['c text two']);
    await tasks.claimLinks({ taskId, tenantId, parentUrl: `${SITE}/`, depth: 1, urls: [`${SITE}/c-indexed.html`], maxPages: 100 });
    const context = await tasks.scrapeContext(taskId, `${SITE}/c-indexed.html`);
    expect(context).toEqual({
      task: { id: taskId, tenantId, knowledgeBaseId: kb, state: 'queued', params: expect.objectContaining({ maxDepth: 3, origins: [SITE] }) },
      status: 'discovered',
      stored: await documents.storedPage(taskId, `${SITE}/c-indexed.html`),
    });
    expect(context?.stored?.fetchedAt).toBeInstanceOf(Date);
    expect((await tasks.scrapeContext(taskId, `${SITE}/c-pending.html`))?.stored).toEqual(await documents.storedPage(taskId, `${SITE}/c-pending.html`));
    // Neither a page row nor a document: just the task.
    expect(await tasks.scrapeContext(taskId, `${SITE}/nothing.html`)).toEqual({ task: expect.objectContaining({ id: taskId }) });
    expect(await tasks.scrapeContext('00000000-0000-0000-0000-000000000000', `${SITE}/nothing.html`)).toBeUndefined();
  });

  it('setPageStatus writes what it is given, keeps what it is not, and clears the error unless given one', async () => {
    const taskId = await crawlTask();
    const url = `${SITE}/s.html`;
    await tasks.claimLinks({ taskId, tenantId, parentUrl: `${SITE}/`, depth: 1, urls: [url], maxPages: 100 });
    const doc = await storePage(url, ['s text']);
    await tasks.setPageStatus(taskId, url, 'failed', { error: 'x'.repeat(3000), httpStatus: 503 });
    await tasks.setPageStatus(taskId, url, 'scraped', { documentId: doc.documentId, change: 'new', bytes: 42 });
    const read = () => db.taskPage.findUniqueOrThrow({ where: { taskId_url: { taskId, url } } });
    expect(await read()).toMatchObject({ status: 'scraped', error: null, httpStatus: 503, documentId: doc.documentId, change: 'new', bytes: 42 });
    const before = (await read()).updatedAt;
    await tasks.setPageStatus(taskId, url, 'failed', { error: 'boom' });
    expect(await read()).toMatchObject({ status: 'failed', error: 'boom', httpStatus: 503, documentId: doc.documentId, change: 'new', bytes: 42 });
    expect((await read()).updatedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    await tasks.setPageStatus(taskId, url, 'failed', { error: 'y'.repeat(3000) });
    expect((await read()).error).toHaveLength(2000);
  });
});

describe('deletions', () => {
  it('deletePage removes a page and its chunks and returns their ids', async () => {
    const page = await storePage(`${SITE}/gone.html`, ['gone one', 'gone two']);
    const removed = await documents.deletePage(kb, `${SITE}/gone.html`);
    expect(removed).toEqual({ documentIds: [page.documentId], chunkIds: expect.arrayContaining(page.chunkIds) });
    expect(await db.document.count({ where: { id: page.documentId } })).toBe(0);
    expect(await db.chunk.count({ where: { documentId: page.documentId } })).toBe(0);
    expect(await documents.deletePage(kb, `${SITE}/gone.html`)).toBeUndefined();
  });

  it('deleteUnreached removes the unreached pages within the scope, and nothing of another origin or knowledge base', async () => {
    const reached = await storePage(`${SITE}/u/reached.html`, ['reached text']);
    const unreached = await storePage(`${SITE}/u/unreached.html`, ['unreached text']);
    const lookalike = await storePage('http://site.test.evil/u/page.html', ['lookalike text']);
    const otherOrigin = await storePage('http://elsewhere.test/u/page.html', ['elsewhere text']);
    const otherBase = await storePage(`${SITE}/u/unreached.html`, ['unreached text'], otherKb);
    const taskId = await crawlTask({ seeds: [`${SITE}/u/reached.html`] });
    const removed = await documents.deleteUnreached(taskId, kb, crawlScopePrefixes({ origins: [SITE] }));
    expect(removed.documentIds).toContain(unreached.documentId);
    expect(removed.documentIds).not.toContain(reached.documentId);
    expect(removed.chunkIds).toEqual(expect.arrayContaining(unreached.chunkIds));
    const left = new Set((await db.document.findMany({ select: { id: true } })).map((d) => d.id));
    for (const kept of [reached, lookalike, otherOrigin, otherBase]) expect(left.has(kept.documentId)).toBe(true);
    expect(left.has(unreached.documentId)).toBe(false);
  });

  it('a crawl cut by maxPages, with pages unprocessed or with failed pages is not complete; 404s do not count against it', async () => {
    const cut = await crawlTask({ maxPages: 1 });
    expect(await tasks.incompleteReason(cut)).toBe('maxPages');
    const pending = await crawlTask();
    expect(await tasks.incompleteReason(pending)).toBe('pages not processed');
    const failed = await crawlTask();
    await tasks.setPageStatus(failed, `${SITE}/`, 'failed', { error: 'timeout' });
    expect(await tasks.incompleteReason(failed)).toBe('failed pages');
    const missing = await crawlTask();
    await tasks.setPageStatus(missing, `${SITE}/`, 'failed', { error: 'answered 404', httpStatus: 404 });
    expect(await tasks.incompleteReason(missing)).toBeUndefined();
    await tasks.recordPrune(missing, { deleted: 2 });
    const view = await tasks.find(tenantId, missing);
    expect(view?.progress.deletedUnreached).toBe(2);
  });
});

describe('records mode=full', () => {
  const rec = (source: string, id: string, body = `body of ${id}`): PreparedRecord => ({
    url: `record://${source}/${id}`,
    title: id,
    markdown: body,
    contentHash: sha256Hex(body),
    metadata: {},
  });
  const upload = async (scope: { tenantId: string; knowledgeBaseId: string }, source: string, rows: PreparedRecord[], mode: 'incremental' | 'full') => {
    const writer = await records.openWriter({ ...scope, source, chunk: (r) => [chunk(0, r.markdown)], mode });
    try {
      await writer.add(rows);
      if (mode === 'full') await writer.deleteMissing();
      return await writer.commit();
    } catch (error) {
      await writer.rollback();
      throw error;
    }
  };
  const urls = async (where: object) =>
    (await db.document.findMany({ where: { contentType: 'record', ...where }, select: { url: true }, orderBy: { url: 'asc' } })).map((d) => d.url);

  it('deletes the records of that source the upload no longer contains, and nothing else', async () => {
    const mine = { tenantId, knowledgeBaseId: kb };
    const theirs = { tenantId: otherTenantId, knowledgeBaseId: otherTenantKb };
    await upload(mine, 'crm', [rec('crm', '1'), rec('crm', '2'), rec('crm', '3')], 'incremental');
    await upload(mine, 'wiki', [rec('wiki', '1')], 'incremental');
    await upload(theirs, 'crm', [rec('crm', '1'), rec('crm', '2')], 'incremental');

    const result = await upload(mine, 'crm', [rec('crm', '1'), rec('crm', '3', 'changed body')], 'full');
    expect(result.deleted.documentIds).toHaveLength(1);
    expect(result.deleted.chunkIds).toHaveLength(1);
    expect(await urls({ knowledgeBaseId: kb, source: 'crm' })).toEqual(['record://crm/1', 'record://crm/3']);
    expect(await urls({ knowledgeBaseId: kb, source: 'wiki' })).toEqual(['record://wiki/1']);
    expect(await urls({ knowledgeBaseId: otherTenantKb })).toEqual(['record://crm/1', 'record://crm/2']);
    expect(await db.chunk.count({ where: { id: { in: result.deleted.chunkIds } } })).toBe(0);
  });

  it('an incremental upload deletes nothing it does not name', async () => {
    const mine = { tenantId, knowledgeBaseId: kb };
    const result = await upload(mine, 'crm', [rec('crm', '9')], 'incremental');
    expect(result.deleted.documentIds).toEqual([]);
    expect(await urls({ knowledgeBaseId: kb, source: 'crm' })).toEqual(['record://crm/1', 'record://crm/3', 'record://crm/9']);
  });

  it('a rolled-back full upload deletes nothing', async () => {
    const writer = await records.openWriter({ tenantId, knowledgeBaseId: kb, source: 'crm', chunk: (r) => [chunk(0, r.markdown)], mode: 'full' });
    await writer.add([rec('crm', '1')]);
    await writer.deleteMissing();
    await writer.rollback();
    expect(await urls({ knowledgeBaseId: kb, source: 'crm' })).toEqual(['record://crm/1', 'record://crm/3', 'record://crm/9']);
  });
});
