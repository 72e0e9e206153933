import type { AddressInfo } from 'node:net';
import type { KbflowClient } from '@kbflow/client';
import type { TenantRepository } from '@kbflow/db';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import express, { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { authenticate, presentedKey, type KeyLookup } from '../http/auth.ts';
import { API_VERSION } from '../openapi/openapi-document.ts';

export interface McpRouteDeps {
  tenants: TenantRepository | KeyLookup;
  log: Logger;
  maxBodyBytes: number;
  /**
   * The tenant's API-call limit, counted before the body is read. Each MCP
   * request counts one call, and a tool it runs counts again as the /v1
   * call the tool makes with the same key: initialize and tools/list are
   * otherwise free calls that parse up to maxBodyBytes (kbflow issue 12).
   */
  limitCalls: express.RequestHandler;
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a slug: lowercase letters, digits, - and _');
const question = {
  query: z.string().min(1).max(4000).describe('the question or search text'),
  knowledgeBase: slug.optional().describe('knowledge base slug (default: "default")'),
};

/** A tool's answer: the JSON as text (every client reads it) and as structured content. */
function result(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> };
}

/**
 * The API answered with an error (a 404 knowledge base, a 400 field): a
 * tool error the agent can read and correct, not a protocol error.
 */
async function run(call: () => Promise<unknown>) {
  try {
    return result(await call());
  } catch (error) {
    if ((error as Error).name !== 'KbflowApiError') throw error;
    const e = error as Error & { status: number; code: string; field?: string };
    return {
      isError: true,
      content: [
        { type: 'text' as const, text: JSON.stringify({ status: e.status, code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }) },
      ],
    };
  }
}

type Shape = Record<string, z.ZodType>;

interface ToolDef {
  title: string;
  description: string;
  input: Shape;
  readOnly: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- args are what `input` (zod) parsed; one record holds every tool, so no one type fits
  call: (api: KbflowClient, args: any) => Promise<unknown>;
}

/**
 * The tools, each a call of the REST API made with the caller's own key
 * through the typed client: authentication, tenant scoping, validation,
 * admission control and idempotency are the REST routes' own, so MCP has
 * no path around any of them.
 */
const TOOLS: Record<string, ToolDef> = {
  search: {
    title: 'Search the knowledge base',
    description: 'Ranked passages (text, URL, title, score, PDF page) from a knowledge base, best first, without an answer.',
    input: { ...question, topK: z.number().int().min(1).max(100).optional(), mode: z.enum(['hybrid', 'vector', 'keyword']).optional() },
    readOnly: true,
    call: (api, args) => api.search(args),
  },
  ask: {
    title: 'Ask a question',
    description: 'An answer to a question from a knowledge base, with numbered citations ([1], [2]...) of the pages it came from.',
    input: { ...question, topK: z.number().int().min(1).max(50).optional() },
    readOnly: true,
    call: async (api, args) => {
      const answer = await api.query(args);
      return { answer: answer.answer, citations: answer.citations, answeredBy: answer.answeredBy, ...(answer.degraded ? { degraded: answer.degraded } : {}) };
    },
  },
  list_knowledge_bases: {
    title: 'List knowledge bases',
    description: "The knowledge bases of this API key's tenant, with their document counts.",
    input: {},
    readOnly: true,
    call: (api) => api.listKnowledgeBases(),
  },
  list_sources: {
    title: 'List sources',
    description:
      "The sites this API key's tenant keeps fresh: URL, schedule, knowledge base, the last run (state and what it changed) and when the next one is due.",
    input: { after: z.uuid().optional().describe('the nextCursor of the previous page') },
    readOnly: true,
    call: (api, args) => api.listSources({ limit: 100, ...(args.after ? { after: args.after } : {}) }),
  },
  start_crawl: {
    title: 'Crawl a site',
    description: 'Starts crawling a site from a seed URL into a knowledge base; returns the task id to follow with task_status.',
    input: {
      url: z.url().describe('the seed URL (http or https)'),
      maxPages: z.number().int().min(1).max(100_000).optional(),
      maxDepth: z.number().int().min(0).max(100).optional(),
      knowledgeBase: slug.optional(),
    },
    readOnly: false,
    call: (api, args) => api.crawl(args),
  },
  task_status: {
    title: 'Task status',
    description: 'State and progress of a crawl or ingest task, and why it waits.',
    input: { taskId: z.uuid() },
    readOnly: true,
    call: (api, args) => api.getTask(args.taskId),
  },
};

/** The SDK and the client, imported on the first /mcp call: together they add most of a second to an api start. */
let sdk:
  | Promise<
      [
        typeof import('@modelcontextprotocol/sdk/server/mcp.js'),
        typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
        typeof import('@kbflow/client'),
      ]
    >
  | undefined;
const loadSdk = () =>
  (sdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/mcp.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@kbflow/client'),
  ]));

function toolServer(api: KbflowClient, McpServerClass: typeof McpServer): McpServer {
  const server = new McpServerClass({ name: 'kbflow', version: API_VERSION });
  for (const [name, tool] of Object.entries(TOOLS)) {
    server.registerTool(
      name,
      { title: tool.title, description: tool.description, inputSchema: tool.input, annotations: { readOnlyHint: tool.readOnly } },
      (args: unknown) => run(() => tool.call(api, args)),
    );
  }
  return server;
}

/** JSON-RPC's "invalid params" code. */
const INVALID_PARAMS = -32602;

/**
 * A `tools/call` for a tool that does not exist, or with arguments its
 * schema refuses, answered as a JSON-RPC error naming the tool or the field.
 * The SDK would answer both as a successful call whose result says
 * `isError`, which a client cannot tell from the tool's own failure.
 */
function invalidToolCall(message: unknown): { jsonrpc: '2.0'; id: unknown; error: { code: number; message: string; data?: { field: string } } } | undefined {
  const m = message as { method?: unknown; id?: unknown; params?: { name?: unknown; arguments?: unknown } } | null;
  if (!m || typeof m !== 'object' || m.method !== 'tools/call') return undefined;
  const name = m.params?.name;
  const tool = typeof name === 'string' && Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
  if (!tool)
    return {
      jsonrpc: '2.0',
      id: m.id ?? null,
      error: { code: INVALID_PARAMS, message: `unknown tool ${JSON.stringify(name)}; tools: ${Object.keys(TOOLS).join(', ')}`, data: { field: 'name' } },
    };
  const parsed = z.strictObject(tool.input).safeParse(m.params?.arguments ?? {});
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.');
  const why = issue.code === 'unrecognized_keys' ? 'unknown argument(s)' : issue.message;
  return {
    jsonrpc: '2.0',
    id: m.id ?? null,
    error: { code: INVALID_PARAMS, message: `invalid arguments for ${String(name)}: ${field}: ${why}`, data: { field: `arguments.${field}` } },
  };
}

/** Where this API itself is reachable from inside: the address and port the request came in on. */
function selfUrl(req: Request): string {
  const address = req.socket.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP (stateless: one
 * server and transport per POST, no session to keep across replicas). The
 * tenant's API key authenticates it through the same middleware as /v1.
 */
export function mcpRoutes(deps: McpRouteDeps): Router {
  const router = Router();
  router.post('/mcp', authenticate(deps.tenants), deps.limitCalls, express.json({ limit: deps.maxBodyBytes }), async (req, res) => {
    const messages = Array.isArray(req.body) ? (req.body as unknown[]) : [req.body];
    const invalid = messages.map(invalidToolCall);
    if (invalid.some((e) => e !== undefined)) {
      const replies = invalid.filter((e) => e !== undefined);
      res.json(Array.isArray(req.body) ? replies : replies[0]);
      return;
    }
    const [{ McpServer: McpServerClass }, { StreamableHTTPServerTransport }, { KbflowClient: Client }] = await loadSdk();
    const api = new Client({ baseUrl: selfUrl(req), apiKey: presentedKey(req)!, retry: { attempts: 1 } });
    const server = toolServer(api, McpServerClass);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
  const notAllowed: express.RequestHandler = (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'method not allowed: this MCP endpoint is stateless, POST JSON-RPC messages' }, id: null });
  };
  router.get('/mcp', notAllowed);
  router.delete('/mcp', notAllowed);
  return router;
}
