// PDF and DOCX end to end, driven by the typed client (@kbflow/client): a
// local site links a multi-page PDF and a DOCX that LibreOffice makes from
// HTML here (and an encrypted and a truncated copy of the PDF, made with
// qpdf and by cutting the file); the api, scraper, embedder and aggregator
// run as processes. Then records, search and uploads through the same client.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KbflowApiError, KbflowClient } from '@kbflow/client';
import { createDb, type Db } from '@kbflow/db';
import { artifactDir, startE2eStack, startStaticServer, type E2eStack, type StaticServer } from '@kbflow/testing';

const run = promisify(execFile);
const KEY = 'e2e-docs-key';

const GUIDE_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Harbour guide</title></head><body>
<h1>Harbour guide</h1>
<h2>Mooring</h2><p>Boats moor at the eastern pier between six and nine in the evening, never on the western breakwater.</p>
<p style="page-break-before: always"></p>
<h2>Fuel</h2><p>The fuel dock sells diesel until noon; the pump code is the number of the day's tide table.</p>
<p style="page-break-before: always"></p>
<h2>Weather</h2><p>Gale warnings are posted on the harbour master's board by the slipway at dawn.</p>
</body></html>`;

let dir: string;
let site: StaticServer;
let e2e: E2eStack;
let db: Db;
let client: KbflowClient;

/** LibreOffice converts HTML to DOCX, and that DOCX to PDF (three pages: the breaks above). */
async function makeDocuments(): Promise<void> {
  await writeFile(path.join(dir, 'guide.html'), GUIDE_HTML);
  const soffice = (args: string[]) =>
    run('soffice', ['--headless', '--norestore', `-env:UserInstallation=file://${dir}/lo-profile`, ...args, '--outdir', dir], { timeout: 180_000 });
  await soffice(['--convert-to', 'docx:MS Word 2007 XML', path.join(dir, 'guide.html')]);
  await soffice(['--convert-to', 'pdf', path.join(dir, 'guide.docx')]);
  await run('qpdf', ['--encrypt', 'user-pw', 'owner-pw', '256', '--', path.join(dir, 'guide.pdf'), path.join(dir, 'locked.pdf')]);
  const pdf = await readFile(path.join(dir, 'guide.pdf'));
  await writeFile(path.join(dir, 'cut.pdf'), pdf.subarray(0, Math.floor(pdf.length / 3)));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kbflow-docs-'));
  await makeDocuments();
  const index = `<!doctype html><html><head><title>Harbour documents</title></head><body><main><h1>Harbour documents</h1>
    <p>Everything a visiting skipper needs, as files: <a href="/guide.pdf">the guide (PDF)</a>, <a href="/guide.docx">the guide (Word)</a>,
    <a href="/locked.pdf">the members' annex</a> and <a href="/cut.pdf">last year's guide</a>.</p></main></body></html>`;
  site = await startStaticServer(dir, { '/index.html': index });
  e2e = await startE2eStack('e2e-docs', {
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-docs'),
    env: {
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'e2e-docs-admin',
      KBFLOW_KEYWORD_BUDGET_MS: '0',
      KBFLOW_QUERY_TIMEOUT_MS: '120000',
    },
  });
  db = createDb(e2e.database.url);
  client = new KbflowClient({ baseUrl: e2e.stack.apiUrl, apiKey: KEY });
}, 600_000);

afterAll(async () => {
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('documents through the typed client', () => {
  let task: Awaited<ReturnType<KbflowClient['waitForTask']>>;

  it('crawls a site whose links are a PDF and a DOCX; the encrypted and the truncated PDF fail alone, with their reason', async () => {
    const { taskId } = await client.crawl(
      { url: `${site.url}/index.html`, maxDepth: 1, maxPages: 20, engine: 'http' },
      { idempotencyKey: `crawl-${Date.now()}` },
    );
    task = await client.waitForTask(taskId, { timeoutMs: 300_000, intervalMs: 500 });
    expect(task.state).toBe('completed');
    expect(task.progress).toEqual(expect.objectContaining({ discovered: 5, embedded: 3, failed: 2 }));
    const pages = await db.taskPage.findMany({ where: { taskId }, select: { url: true, status: true, error: true } });
    const byFile = Object.fromEntries(pages.map((p) => [p.url.split('/').pop(), p]));
    expect(byFile['locked.pdf']).toEqual(expect.objectContaining({ status: 'failed', error: expect.stringMatching(/document_encrypted.*encrypted/) }));
    expect(byFile['cut.pdf']).toEqual(expect.objectContaining({ status: 'failed', error: expect.stringMatching(/document_unreadable.*truncated or damaged/) }));
  }, 320_000);

  it("keeps the PDF's pages and the DOCX's headings as chunk sections", async () => {
    const docs = await db.document.findMany({ where: { url: { startsWith: site.url } }, include: { chunks: { orderBy: { position: 'asc' } } } });
    const pdf = docs.find((d) => d.url.endsWith('guide.pdf'))!;
    const docx = docs.find((d) => d.url.endsWith('guide.docx'))!;
    expect(pdf.markdown).toMatch(/## Page 1[\s\S]*Mooring[\s\S]*## Page 2[\s\S]*Fuel[\s\S]*## Page 3[\s\S]*Weather/);
    expect(pdf.chunks.map((c) => c.heading)).toEqual(expect.arrayContaining(['Page 1', 'Page 2', 'Page 3']));
    expect(docx.chunks.map((c) => c.heading)).toEqual(expect.arrayContaining(['Harbour guide > Fuel']));
  });

  it('an answer cites the PDF with the page its passage is on', async () => {
    const answer = await client.query({ query: 'until when does the fuel dock sell diesel?', topK: 3 });
    const pdfCitation = answer.citations.find((c) => c.url.endsWith('guide.pdf'));
    expect(pdfCitation).toEqual(expect.objectContaining({ page: 2, snippet: expect.stringContaining('diesel') }));
    const search = await client.search({ query: 'gale warnings slipway', topK: 5 });
    expect(search.results.find((r) => r.url.endsWith('guide.pdf'))).toEqual(expect.objectContaining({ page: 3 }));
  }, 120_000);

  it('ingests records and answers from them, polling the ingest task', async () => {
    const accepted = await client.ingestRecords([{ id: 'berth-7', title: 'Berth 7', body: 'Berth 7 is reserved for the pilot boat from April to October.' }], {
      source: 'notices',
    });
    const done = await client.waitForTask(accepted.taskId, { timeoutMs: 120_000, intervalMs: 500 });
    expect(done.state).toBe('completed');
    const answer = await client.query({ query: 'who is berth 7 reserved for?', topK: 2 });
    expect(answer.citations[0]!.url).toBe('record://notices/berth-7');
  }, 150_000);

  it('uploads a DOCX and a PDF as multipart: both stored with their structure; an encrypted one fails alone; a .exe is a 415', async () => {
    const files = ['guide.docx', 'guide.pdf', 'locked.pdf'];
    const uploaded = await client.uploadDocuments(
      await Promise.all(files.map(async (name) => ({ name: `upload-${name}`, data: new Uint8Array(await readFile(path.join(dir, name))) }))),
      { source: 'desk' },
    );
    expect(uploaded.documents.map((d) => [d.filename, d.format, d.pages ?? null])).toEqual([
      ['upload-guide.docx', 'docx', null],
      ['upload-guide.pdf', 'pdf', 3],
    ]);
    expect(uploaded.failed).toEqual([expect.objectContaining({ filename: 'upload-locked.pdf', code: 'document_encrypted' })]);
    expect((await client.waitForTask(uploaded.taskId, { timeoutMs: 120_000, intervalMs: 500 })).state).toBe('completed');
    const before = await db.document.count();
    const refused = await client.uploadDocuments([{ name: 'tool.exe', data: new Uint8Array([77, 90, 0, 0]) }]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KbflowApiError);
    expect(refused).toEqual(expect.objectContaining({ status: 415, code: 'unsupported_media_type', field: 'file' }));
    expect(await db.document.count()).toBe(before);
  }, 150_000);
});
