import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { KbflowClient } from '@kbflow/client';
import { MultiBar, Presets } from 'cli-progress';
import { fileBatches, formatOf, type FileBatch, type IngestFormat } from './ingest-batches.ts';

const INGEST_USAGE =
  'usage: ./kbflow ingest <file> [--as records|cases] [--source s] [--knowledge-base kb] [--format csv|ndjson|json] [--id-column c] [--title-column c] [--body-column c] [--id-prefix p] [--mode incremental|full] [--batch-rows N] [--max-errors N]';

/**
 * Where each `--as` kind is posted and the counts its answers carry. Both
 * endpoints take the same bulk bodies and column parameters; a case's id,
 * title and body become its externalId, subject and description.
 */
const TARGETS = {
  records: { path: '/v1/records', counts: ['received', 'accepted', 'unchanged', 'deleted', 'invalid'] },
  cases: { path: '/v1/cases', counts: ['received', 'created', 'updated', 'unchanged', 'invalid'] },
} as const;

export interface IngestArgs {
  file: string;
  format: IngestFormat;
  as: keyof typeof TARGETS;
  batchRows: number;
  maxErrors: number;
  /**
   * `full`: the file is the whole source. Its batches are one record sync
   * (`mode=full&sync=<id>`), the last one sent with `final=true` once every
   * other was answered; the API then deletes the source's records the file
   * no longer contains. `incremental` (the default): only the rows sent are touched.
   */
  mode: 'incremental' | 'full';
  /** Query parameters sent with every batch. */
  query: Record<string, string>;
}

export interface ApiTarget {
  url: string;
  key: string;
  /** Sends every request; its retries wait out 429 and 503 (admission control while a backlog drains). */
  client: KbflowClient;
}

interface RowError {
  row: number;
  field: string;
  reason: string;
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${value}"\n${INGEST_USAGE}`);
  return n;
}

/** Parses `./kbflow ingest` arguments; throws with the usage on anything wrong. */
export function parseIngestArgs(args: string[]): IngestArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      'knowledge-base': { type: 'string' },
      format: { type: 'string' },
      'id-column': { type: 'string' },
      'title-column': { type: 'string' },
      'body-column': { type: 'string' },
      'id-prefix': { type: 'string' },
      as: { type: 'string' },
      'batch-rows': { type: 'string' },
      'max-errors': { type: 'string' },
      mode: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new Error(INGEST_USAGE);
  const file = positionals[0]!;
  const format = (values.format ?? formatOf(file)) as IngestFormat | undefined;
  if (format === undefined) throw new Error(`cannot tell the format of ${file} from its extension: pass --format csv|ndjson|json`);
  if (!['csv', 'ndjson', 'json'].includes(format)) throw new Error(`--format must be csv, ndjson or json, got "${format}"`);
  const as = values.as ?? 'records';
  if (!(as in TARGETS)) throw new Error(`--as must be one of ${Object.keys(TARGETS).join(', ')}, got "${as}"`);
  if (as === 'cases' && values.source !== undefined) throw new Error('--source applies to records; cases are keyed by their id alone');
  const mode = values.mode ?? 'incremental';
  if (mode !== 'incremental' && mode !== 'full') throw new Error(`--mode must be incremental or full, got "${mode}"\n${INGEST_USAGE}`);
  if (as === 'cases' && mode === 'full') throw new Error('--mode full applies to records: a case feed has no deletions by absence');
  const query: Record<string, string> = {};
  const put = (param: string, value: string | undefined) => {
    if (value !== undefined) query[param] = value;
  };
  put('source', values.source);
  put('knowledgeBase', values['knowledge-base']);
  put('idColumn', values['id-column']);
  put('titleColumn', values['title-column']);
  put('bodyColumn', values['body-column']);
  put('idPrefix', values['id-prefix']);
  return {
    file,
    format,
    as: as as keyof typeof TARGETS,
    batchRows: integer('batch-rows', values['batch-rows'], 10_000, 1, 1_000_000),
    maxErrors: integer('max-errors', values['max-errors'], 20, 0, 100_000),
    mode,
    query,
  };
}

/** Batches posted at once. */
const IN_FLIGHT = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Posts one batch. An overloaded API (503 with Retry-After, e.g. admission
 * control while the embed backlog drains) is waited out and retried by the
 * client; an all-invalid batch (400 with row errors) is returned like a
 * success, so the rest of the file still goes; any other error stops the ingest.
 */
async function post(api: ApiTarget, path: string, query: Record<string, string>, batch: FileBatch, headers: Record<string, string> = {}): Promise<any> {
  let res;
  try {
    res = await api.client.request('POST', path, {
      body: batch.body as BodyInit,
      contentType: batch.contentType,
      query: { ...query, rowOffset: String(batch.rowOffset) },
      headers,
    });
  } catch (error) {
    throw new Error(`cannot reach the API at ${api.url} (${(error as Error).message}); is ./kbflow up running?`, { cause: error });
  }
  const json: any = res.json ?? {};
  if (res.status === 202 || (res.status === 400 && json.error?.code === 'invalid_rows')) return json;
  throw new Error(`rows ${batch.rowOffset + 1}-${batch.rowOffset + batch.rows}: POST ${path} answered ${res.status}: ${json.error?.message ?? res.text}`);
}

/**
 * `./kbflow ingest <file>`: streams the file to the API in batches, with a
 * progress bar for rows sent and then for documents indexed (from each
 * batch's task), and prints the totals and the first row errors.
 */
export async function ingestCommand(argv: string[], api: ApiTarget, out: (line: string) => void): Promise<void> {
  const args = parseIngestArgs(argv);
  const size = (await stat(args.file)).size;
  const started = performance.now();
  // Bars on a terminal; elsewhere (logs, CI, tests) one plain line per batch and per change.
  const bars = process.stderr.isTTY ? new MultiBar({ clearOnComplete: false, hideCursor: true }, Presets.shades_classic) : undefined;
  const sendBar = bars?.create(size, 0, { detail: '0 rows' }, { format: 'sent    |{bar}| {percentage}% | {detail}' });
  const target = TARGETS[args.as];
  const totals: Record<string, number> = Object.fromEntries(target.counts.map((k) => [k, 0]));
  const errors: RowError[] = [];
  const taskIds: string[] = [];
  let sentRows = 0;
  let bytes = 0;
  /** Keeps the first `maxErrors` row errors by row number (answers may arrive out of order). */
  const keep = (more: RowError[]) => {
    errors.push(...more);
    if (errors.length > 2 * args.maxErrors + 1000) errors.sort((a, b) => a.row - b.row).splice(args.maxErrors);
  };
  const account = (batch: FileBatch, answer: any) => {
    sentRows += batch.rows;
    for (const key of target.counts) totals[key]! += answer[key] ?? 0;
    if (answer.taskId) taskIds.push(answer.taskId);
    keep(((answer.errors ?? []) as RowError[]).slice(0, args.maxErrors));
    const detail = `${sentRows} rows, ${totals.invalid} invalid`;
    if (sendBar) sendBar.update(Math.min(bytes, size), { detail });
    else out(`sent ${detail}`);
  };
  // --mode full: one sync for the whole file (see IngestArgs.mode).
  const sync = args.mode === 'full' ? randomUUID() : undefined;
  let finalAnswer: any;
  try {
    // Two requests in flight: the API parses one while PostgreSQL writes the other.
    const inFlight: Promise<void>[] = [];
    const send = async (batch: FileBatch, final: boolean) => {
      const query = sync ? { ...args.query, mode: 'full', sync, ...(final ? { final: 'true' } : {}) } : args.query;
      // A sync's batch carries an Idempotency-Key: a batch whose answer was
      // lost is sent again by the client and answered from the first time,
      // instead of meeting a finished sync.
      const headers: Record<string, string> = sync ? { 'idempotency-key': `${sync}-${batch.rowOffset}` } : {};
      const sent = post(api, target.path, query, batch, headers).then((answer) => {
        if (final) finalAnswer = answer;
        account(batch, answer);
      });
      sent.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      inFlight.push(sent);
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    };
    const hooks = {
      onBytes: (n: number) => (bytes += n),
      onRowError: (error: RowError) => {
        totals.received!++;
        totals.invalid!++;
        keep([error]);
      },
    };
    // A sync's last batch is held back until the file ends and every other
    // batch is answered: the final batch deletes what the sync has not named,
    // so it must come after all of them, and never after one that failed.
    let held: FileBatch | undefined;
    try {
      for await (const batch of fileBatches(args.file, args.format, args.batchRows, hooks)) {
        if (!sync) await send(batch, false);
        else {
          if (held) await send(held, false);
          held = batch;
        }
      }
      await Promise.all(inFlight);
      if (held) {
        await send(held, true);
        await Promise.all(inFlight);
      }
    } catch (error) {
      if (!sync) throw error;
      const why = `no record was deleted: sync ${sync} was not finished (its final batch was not sent); run the ingest again`;
      throw new Error(`${(error as Error).message}\n${why}`, { cause: error });
    }
    sendBar?.update(size);
    errors.sort((a, b) => a.row - b.row).splice(args.maxErrors);
    const accepted = performance.now();
    const received = totals.received!;
    const totalsLine = target.counts.map((k) => `${k} ${totals[k]}`).join(', ');
    const printErrors = () => {
      if (errors.length === 0) return;
      out(`first ${errors.length} of ${totals.invalid} row errors:`);
      for (const e of errors) out(`  row ${e.row}: ${e.field}: ${e.reason}`);
    };
    if (args.as === 'cases') {
      // Cases have no ingest task: the case-sync schedule checks, categorizes and vectorizes them.
      bars?.stop();
      out(totalsLine);
      out(
        `stored in ${((accepted - started) / 1000).toFixed(1)} s (${Math.round(received / ((accepted - started) / 1000))} rows/s); the case-sync schedule vectorizes them (POST /v1/schedules/case-sync/trigger runs it now)`,
      );
      printErrors();
      return;
    }

    if (sync) {
      // A final batch refused whole (every row invalid) did not end the sync: nothing was deleted.
      const outcome = finalAnswer?.sync?.final
        ? (finalAnswer.pruneSkipped ?? `sync ${sync} finished: records the file no longer contains were deleted`)
        : `sync ${sync} was not finished (its final batch was refused): no record was deleted`;
      out(outcome);
    }
    const indexBar = bars?.create(1, 0, { detail: 'waiting for tasks' }, { format: 'indexed |{bar}| {percentage}% | {detail}' });
    let last = '';
    const final = await waitForTasks(api, taskIds, (embedded, toEmbed) => {
      const detail = `${embedded}/${toEmbed} documents`;
      if (indexBar) {
        indexBar.setTotal(Math.max(1, toEmbed));
        indexBar.update(toEmbed === 0 ? 1 : embedded, { detail });
      } else if (detail !== last) out(`indexed ${detail}`);
      last = detail;
    });
    bars?.stop();
    const seconds = (performance.now() - started) / 1000;
    out(totalsLine);
    out(
      `embedded ${final.embedded} of ${final.toEmbed} documents in ${taskIds.length} task(s)${final.failed.length ? `; failed tasks: ${final.failed.join(', ')}` : ''}`,
    );
    out(
      `accepted in ${((accepted - started) / 1000).toFixed(1)} s (${Math.round(received / ((accepted - started) / 1000))} rows/s); indexed in ${seconds.toFixed(1)} s (${Math.round(received / seconds)} rows/s end to end)`,
    );
    printErrors();
    process.exitCode = final.failed.length > 0 ? 1 : 0;
  } finally {
    bars?.stop();
  }
}

/** Polls every task until each is completed or failed, reporting embedded / to-embed across them. */
async function waitForTasks(api: ApiTarget, taskIds: string[], onProgress: (embedded: number, toEmbed: number) => void) {
  const done = new Map<string, { embedded: number; toEmbed: number; state: string }>();
  for (;;) {
    let embedded = 0;
    let toEmbed = 0;
    for (const id of taskIds) {
      let task = done.get(id);
      if (!task) {
        const json = await api.client.getTask(id);
        task = { embedded: json.progress.embedded ?? 0, toEmbed: json.progress.toEmbed ?? 0, state: json.state };
        if (task.state === 'completed' || task.state === 'failed') done.set(id, task);
      }
      embedded += task.embedded;
      toEmbed += task.toEmbed;
    }
    onProgress(embedded, toEmbed);
    if (done.size === taskIds.length) {
      return { embedded, toEmbed, failed: [...done].filter(([, t]) => t.state === 'failed').map(([id]) => id) };
    }
    await sleep(500);
  }
}
