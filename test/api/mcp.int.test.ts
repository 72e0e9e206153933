// /mcp with the official MCP SDK's client over real HTTP (Streamable HTTP):
// initialize, list the tools, call search and ask with a tenant's key; a
// second tenant's key sees nothing of the first's; bad calls are JSON-RPC
// errors, never 5xx.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KbflowClient } from '@kbflow/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DEV_KEY, OTHER_KEY, startTestApi, type TestApi } from '../../services/api/test/support/test-api.ts';
import { startInProcessWorkers, until, type InProcessWorkers } from './support/in-process-workers.ts';

let api: TestApi;
let workers: InProcessWorkers;
const clients: Client[] = [];

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'kbflow-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${api.base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

/** A JSON-RPC POST by hand, to see the status and the raw error. */
async function rpc(key: string | null, body: unknown) {
  const res = await fetch(`${api.base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

const structured = (r: unknown) => (r as { structuredContent: any }).structuredContent;

beforeAll(async () => {
  api = await startTestApi({ label: 'mcp', queryTimeoutMs: 60_000 });
  workers = await startInProcessWorkers(api, 'mcp');
  const dev = new KbflowClient({ baseUrl: api.base, apiKey: DEV_KEY, retry: { attempts: 1 } });
  await dev.ingestRecords(
    [
      { id: 'lighthouse', title: 'The lighthouse keeper', body: 'The quartermaster keeps the xylophone in the lighthouse, behind the third door on the left.' },
      { id: 'harbour', title: 'Harbour hours', body: 'The harbour office opens at seven and closes at noon on Saturdays.' },
    ],
    { source: 'notes', knowledgeBase: 'ship' },
  );
  await until(async () => ((await api.db.chunk.count({ where: { indexed: { isNot: null } } })) >= 2 ? true : undefined), 60_000, 'the records to be embedded');
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await workers?.close();
  await api?.close();
}, 60_000);

describe('MCP at /mcp', () => {
  it('initializes and lists the tools with their input schemas', async () => {
    const client = await connect(DEV_KEY);
    expect(client.getServerVersion()).toEqual(expect.objectContaining({ name: 'kbflow' }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['ask', 'list_knowledge_bases', 'list_sources', 'search', 'start_crawl', 'task_status']);
    expect(tools.find((t) => t.name === 'search')!.inputSchema).toEqual(expect.objectContaining({ type: 'object', required: ['query'] }));
  });

  it("search and ask answer from the tenant's knowledge base, with citations", async () => {
    const client = await connect(DEV_KEY);
    const search = structured(await client.callTool({ name: 'search', arguments: { query: 'where is the xylophone kept', knowledgeBase: 'ship' } }));
    expect(search.results[0]).toEqual(expect.objectContaining({ url: 'record://notes/lighthouse', text: expect.stringContaining('xylophone') }));
    const ask = structured(
      await client.callTool({ name: 'ask', arguments: { query: 'where does the quartermaster keep the xylophone?', knowledgeBase: 'ship', topK: 2 } }),
    );
    expect(ask.answer).toMatch(/lighthouse.*\[1\]/);
    expect(ask.citations[0]).toEqual(expect.objectContaining({ url: 'record://notes/lighthouse', title: 'The lighthouse keeper' }));
    const kbs = structured(await client.callTool({ name: 'list_knowledge_bases', arguments: {} }));
    expect(kbs.knowledgeBases).toEqual([expect.objectContaining({ slug: 'ship', documents: 2 })]);
  }, 60_000);

  it('start_crawl creates a task that task_status reads, as over REST', async () => {
    const client = await connect(DEV_KEY);
    const started = structured(await client.callTool({ name: 'start_crawl', arguments: { url: 'http://127.0.0.1:9/', maxPages: 1, knowledgeBase: 'ship' } }));
    expect(started.taskId).toMatch(/^[0-9a-f-]{36}$/);
    const status = structured(await client.callTool({ name: 'task_status', arguments: { taskId: started.taskId } }));
    expect(status).toEqual(expect.objectContaining({ id: started.taskId, type: 'crawl', state: expect.stringMatching(/queued|running/) }));
    expect((await api.send('GET', `/v1/tasks/${started.taskId}`)).json.id).toBe(started.taskId);
  });

  it("list_sources returns the caller's sources only", async () => {
    const created = await api.send('POST', '/v1/sources', {
      body: { type: 'site', url: 'http://127.0.0.1:9/handbook/', knowledgeBase: 'ship', schedule: { cron: '0 3 * * *' } },
    });
    expect(created.status).toBe(201);
    const mine = structured(await (await connect(DEV_KEY)).callTool({ name: 'list_sources', arguments: {} }));
    expect(mine.sources).toEqual([
      expect.objectContaining({ id: created.json.id, url: 'http://127.0.0.1:9/handbook/', knowledgeBase: 'ship', schedule: { cron: '0 3 * * *' } }),
    ]);
    expect(structured(await (await connect(OTHER_KEY)).callTool({ name: 'list_sources', arguments: {} })).sources).toEqual([]);
  });

  it("another tenant's key sees nothing of the first's: no knowledge base, no passage, no task", async () => {
    const dev = await connect(DEV_KEY);
    const taskId = structured(await dev.callTool({ name: 'start_crawl', arguments: { url: 'http://127.0.0.1:9/other', maxPages: 1 } })).taskId;
    const other = await connect(OTHER_KEY);
    expect(structured(await other.callTool({ name: 'list_knowledge_bases', arguments: {} })).knowledgeBases).toEqual([]);
    const search = await other.callTool({ name: 'search', arguments: { query: 'xylophone lighthouse', knowledgeBase: 'ship' } });
    expect(search.isError).toBe(true);
    expect(JSON.parse((search.content as { text: string }[])[0]!.text)).toEqual(expect.objectContaining({ status: 404, code: 'knowledge_base_not_found' }));
    const inDefault = structured(
      await other.callTool({ name: 'ask', arguments: { query: 'xylophone lighthouse' } }).catch(() => ({ structuredContent: { citations: [] } })),
    );
    expect(JSON.stringify(inDefault ?? {})).not.toContain('xylophone');
    const task = await other.callTool({ name: 'task_status', arguments: { taskId } });
    expect(task.isError).toBe(true);
    expect(JSON.parse((task.content as { text: string }[])[0]!.text)).toEqual(expect.objectContaining({ status: 404, code: 'task_not_found' }));
  }, 60_000);

  it("without a valid key /mcp is a 401 with the API's error body, as /v1 is", async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    };
    expect(await rpc(null, init)).toEqual({ status: 401, json: { error: expect.objectContaining({ code: 'unauthorized' }) } });
    expect((await rpc('not-a-key', init)).status).toBe(401);
  });

  it('an unknown tool, bad arguments and a malformed message are JSON-RPC errors, never 5xx', async () => {
    const client = await connect(DEV_KEY);
    await expect(client.callTool({ name: 'format_disk', arguments: {} })).rejects.toThrow(/format_disk/);
    await expect(client.callTool({ name: 'search', arguments: { query: 42 } })).rejects.toThrow(/query/);
    await expect(client.callTool({ name: 'task_status', arguments: { taskId: 'nope' } })).rejects.toThrow(/taskId/);
    const unknown = await rpc(DEV_KEY, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'format_disk', arguments: {} } });
    expect(unknown.status).toBeLessThan(500);
    expect(unknown.json).toEqual(
      expect.objectContaining({
        jsonrpc: '2.0',
        id: 7,
        error: expect.objectContaining({ code: expect.any(Number), message: expect.stringContaining('format_disk') }),
      }),
    );
    const garbage = await rpc(DEV_KEY, '{"jsonrpc": "2.0", "id": 1, "method":');
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(500);
  });
});
