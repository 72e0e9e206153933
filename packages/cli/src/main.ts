// The terminal client: `./kbflow crawl|query|health|eval|ingest|mcp|sources|tenants|keys`. Talks to the API over
// HTTP like any other client (KBFLOW_API_URL, KBFLOW_API_KEY; tenants and keys with KBFLOW_ADMIN_API_KEY).
import { parseArgs } from 'node:util';
import { parseEnv } from '@kbflow/config';
import { KbflowApiError, KbflowClient, type CrawlRequest } from '@kbflow/client';
import { z } from 'zod';
import { evalCommand } from './eval.command.ts';
import { ingestCommand } from './ingest.command.ts';
import { mcpSnippets } from './mcp.command.ts';
import { keysCommand, tenantsCommand } from './tenants.command.ts';
import { sourcesCommand } from './sources.command.ts';

const env = parseEnv(
  z.object({
    KBFLOW_API_URL: z.url().default('http://127.0.0.1:8080'),
    KBFLOW_API_KEY: z.string().min(1).optional(),
    KBFLOW_DEV_API_KEY: z.string().min(1).default('dev-key'),
    /** For `tenants`, `keys` and the queue figures of `health`. */
    KBFLOW_ADMIN_API_KEY: z.string().min(1).default('dev-admin-key'),
  }),
);
const apiKey = env.KBFLOW_API_KEY ?? env.KBFLOW_DEV_API_KEY;

const out = (line: string) => process.stdout.write(`${line}\n`);

// 30 attempts: a bulk ingest waits out admission control (503 + Retry-After) while the embed backlog drains.
const client = new KbflowClient({ baseUrl: env.KBFLOW_API_URL, apiKey, retry: { attempts: 30 } });

/** A request through the typed client's raw form; an error answer stops the command with its message. */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  let res;
  try {
    res = await client.request(method, path, body !== undefined ? { json: body } : {});
  } catch (error) {
    throw unreachable(error);
  }
  if (res.status >= 400) throw new Error(`${method} ${path} answered ${res.status}: ${res.json?.error?.message ?? res.text}`);
  return { status: res.status, json: res.json ?? { raw: res.text } };
}

const adminClient = new KbflowClient({ baseUrl: env.KBFLOW_API_URL, apiKey: env.KBFLOW_ADMIN_API_KEY, retry: { attempts: 3 } });

/** {@link call} with the admin key. */
async function adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  let res;
  try {
    res = await adminClient.request(method, path, body !== undefined ? { json: body } : {});
  } catch (error) {
    throw unreachable(error);
  }
  if (res.status >= 400)
    throw new Error(
      `${method} ${path} answered ${res.status}: ${res.json?.error?.message ?? res.text}${res.status === 401 || res.status === 403 ? ' (set KBFLOW_ADMIN_API_KEY)' : ''}`,
    );
  return { status: res.status, json: res.json ?? { raw: res.text } };
}

function unreachable(error: unknown): Error {
  if (error instanceof KbflowApiError) return error;
  return new Error(`cannot reach the API at ${env.KBFLOW_API_URL} (${(error as Error).message}); is ./kbflow up running?`);
}

const CRAWL_USAGE =
  './kbflow crawl <url> [--max-pages N] [--max-depth N] [--engine auto|http|browser] [--delete-unreached] [--ignore-robots] [--sitemaps auto|off] [--host-concurrency N] [--min-delay-ms N]';

async function crawl(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'max-pages': { type: 'string' },
      'max-depth': { type: 'string' },
      engine: { type: 'string' },
      'delete-unreached': { type: 'boolean' },
      'ignore-robots': { type: 'boolean' },
      sitemaps: { type: 'string' },
      'host-concurrency': { type: 'string' },
      'min-delay-ms': { type: 'string' },
    },
  });
  const url = positionals[0];
  if (!url) throw new Error(`usage: ${CRAWL_USAGE}`);
  const body: CrawlRequest = { url };
  if (values['max-pages']) body.maxPages = Number(values['max-pages']);
  if (values['max-depth']) body.maxDepth = Number(values['max-depth']);
  if (values.engine) body.engine = values.engine as CrawlRequest['engine'];
  if (values['delete-unreached']) body.deleteUnreached = true;
  // Bad values go to the API as they are: its 400 names the field.
  if (values['ignore-robots']) body.respectRobots = false;
  if (values.sitemaps) body.sitemaps = values.sitemaps as CrawlRequest['sitemaps'];
  if (values['host-concurrency'] || values['min-delay-ms']) {
    body.politeness = {
      ...(values['host-concurrency'] ? { maxConcurrency: Number(values['host-concurrency']) } : {}),
      ...(values['min-delay-ms'] ? { minDelayMs: Number(values['min-delay-ms']) } : {}),
    };
  }
  const { taskId } = await client.crawl(body).catch((error: unknown) => {
    throw unreachable(error);
  });
  out(`task ${taskId}`);
  let last = '';
  const task = await client.waitForTask(taskId, {
    timeoutMs: 24 * 3600_000,
    onProgress: (t) => {
      const p = t.progress;
      // A recrawl's counters (docs/recrawls.md), when the API reports them.
      const recrawl = p.notModified === undefined ? '' : `, not modified ${p.notModified}, deleted ${(p.deletedGone ?? 0) + (p.deletedUnreached ?? 0)}`;
      const line = `${t.state}: discovered ${p.discovered}, scraped ${p.scraped}, skipped ${p.skipped}, embedded ${p.embedded}, failed ${p.failed}${recrawl}`;
      if (line !== last) out(line);
      last = line;
    },
  });
  if (task.error) out(`error: ${task.error}`);
  process.exitCode = task.state === 'completed' ? 0 : 1;
}

async function query(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'top-k': { type: 'string' } } });
  const question = positionals.join(' ').trim();
  if (!question) throw new Error('usage: ./kbflow query "<question>" [--top-k N]');
  // Streamed: the answer is printed as it forms (LLM tokens, extractive sentences).
  let citations: { url: string; title: string; score: number; page?: number }[] = [];
  let timings: Record<string, number> = {};
  try {
    for await (const event of client.queryStream({ query: question, ...(values['top-k'] ? { topK: Number(values['top-k']) } : {}) })) {
      if (event.event === 'citations') citations = event.data.citations;
      else if (event.event === 'answer') process.stdout.write(event.data.text);
      else if (event.event === 'done') timings = event.data.timings;
      else if (event.event === 'error') throw new Error(`the answer failed: ${event.data.error.message}`);
    }
  } catch (error) {
    throw unreachable(error);
  }
  out('');
  out('');
  citations.forEach((c, i) => out(`[${i + 1}] ${c.title}${c.page !== undefined ? `, page ${c.page}` : ''} (${c.score})\n    ${c.url}`));
  out('');
  out(
    `timings (ms): ${Object.entries(timings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}

async function health(): Promise<void> {
  const res = await fetch(new URL('/readyz', env.KBFLOW_API_URL)).catch((error: Error) => {
    throw new Error(`cannot reach the API at ${env.KBFLOW_API_URL} (${error.message}); is ./kbflow up running?`);
  });
  const json = (await res.json()) as { status: string; checks: Record<string, string> };
  out(`api: ${json.status}`);
  for (const [name, state] of Object.entries(json.checks)) out(`  ${name}: ${state}`);
  // Queue figures span every tenant: they need the admin key (issue 12 item 4).
  const queues = await adminClient.listQueues().catch((error: unknown) => {
    throw unreachable(error);
  });
  // (The admin key sees every queue; a tenant key would get only its own work, scope tenant.)
  if (queues.scope === 'all') {
    for (const q of queues.queues)
      out(
        `queue ${q.name}: ${Object.entries(q.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
  }
  process.exitCode = res.ok ? 0 : 1;
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'crawl') await crawl(rest);
  else if (command === 'query') await query(rest);
  else if (command === 'health') await health();
  else if (command === 'eval') await evalCommand(rest, call, out);
  else if (command === 'mcp') out(mcpSnippets(env.KBFLOW_API_URL, apiKey));
  else if (command === 'tenants') await tenantsCommand(rest, adminCall, out);
  else if (command === 'keys') await keysCommand(rest, adminCall, out);
  else if (command === 'ingest') await ingestCommand(rest, { url: env.KBFLOW_API_URL, key: apiKey, client }, out);
  else if (command === 'sources') process.exitCode = await sourcesCommand(rest, call, out, (id) => client.waitForTask(id, { timeoutMs: 24 * 3600_000 }));
  else throw new Error(`unknown command ${command}`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
