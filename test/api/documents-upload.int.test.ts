// POST /v1/documents' bad input, against the API in process: a file over
// the cap is a 413, a type kbflow does not read a 415, a body that is not
// multipart a 415, each naming the field, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEV_KEY, startTestApi, type TestApi } from '../../services/api/test/support/test-api.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ label: 'upload', recordsMaxBytes: 4096 });
}, 60_000);

afterAll(async () => {
  await api?.close();
}, 60_000);

async function upload(files: { name: string; type: string; text: string }[]) {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([f.text], { type: f.type }), f.name);
  const res = await fetch(`${api.base}/v1/documents?source=desk`, { method: 'POST', headers: { authorization: `Bearer ${DEV_KEY}` }, body: form });
  return { status: res.status, json: (await res.json()) as any };
}

describe('POST /v1/documents', () => {
  it('stores a Markdown file with its headings and answers 202 with the task', async () => {
    const res = await upload([{ name: 'notes.md', type: 'text/markdown', text: '# Notes\n\n## Tides\n\nHigh tide is at noon.' }]);
    expect(res.status).toBe(202);
    expect(res.json.documents).toEqual([expect.objectContaining({ url: 'upload://desk/notes.md', format: 'markdown', title: 'Notes', unchanged: false })]);
    const chunks = await api.db.chunk.findMany({ where: { document: { url: 'upload://desk/notes.md' } } });
    expect(chunks.map((c) => c.heading)).toContain('Notes > Tides');
  });

  it('a file over the cap is a 413 naming the field; a file of another type a 415; nothing is written by either', async () => {
    const before = await api.db.document.count();
    const tasks = await api.db.task.count();
    const big = await upload([
      { name: 'ok.md', type: 'text/markdown', text: '# Fine' },
      { name: 'big.txt', type: 'text/plain', text: 'x'.repeat(5000) },
    ]);
    expect(big).toEqual({ status: 413, json: { error: { code: 'payload_too_large', message: 'big.txt is larger than 4096 bytes', field: 'file' } } });
    const exe = await upload([
      { name: 'ok.md', type: 'text/markdown', text: '# Fine' },
      { name: 'tool.exe', type: 'application/x-msdownload', text: 'MZ' },
    ]);
    expect(exe.status).toBe(415);
    expect(exe.json.error).toEqual(expect.objectContaining({ code: 'unsupported_media_type', field: 'file' }));
    const json = await api.send('POST', '/v1/documents', { body: { file: 'not a form' } });
    expect(json.status).toBe(415);
    expect(json.json.error.field).toBe('body');
    expect(await api.db.document.count()).toBe(before);
    expect(await api.db.task.count()).toBe(tasks);
  });

  it('a file that is not what it says (a "PDF" of text) fails alone with its reason; all unreadable is a 422', async () => {
    const res = await upload([{ name: 'fake.pdf', type: 'application/pdf', text: 'this is not a pdf' }]);
    expect(res.status).toBe(422);
    expect(res.json.failed).toEqual([expect.objectContaining({ filename: 'fake.pdf', code: 'document_unreadable' })]);
  });
});
