// `./kbflow sources add|list|run|runs|rm`: thin calls of /v1/sources (docs/sources.md).
import { parseArgs } from 'node:util';

const SOURCES_USAGE = `usage:
  ./kbflow sources add <url> (--every 6h | --cron "0 */6 * * *" [--tz Europe/Paris]) [--knowledge-base kb]
                       [--max-pages N] [--max-depth N] [--engine auto|http|browser] [--include RE]... [--exclude RE]...
                       [--ignore-robots] [--sitemaps auto|off] [--keep-unreached]
  ./kbflow sources list
  ./kbflow sources run <id> [--wait]
  ./kbflow sources runs <id>
  ./kbflow sources rm <id> [--purge]`;

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** The `POST /v1/sources` body of `sources add`'s arguments; throws with the usage on a mistake. */
export function addRequest(args: string[]): Record<string, unknown> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      every: { type: 'string' },
      cron: { type: 'string' },
      tz: { type: 'string' },
      'knowledge-base': { type: 'string' },
      'max-pages': { type: 'string' },
      'max-depth': { type: 'string' },
      engine: { type: 'string' },
      include: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      'ignore-robots': { type: 'boolean' },
      sitemaps: { type: 'string' },
      'keep-unreached': { type: 'boolean' },
    },
  });
  const url = positionals[0];
  if (!url || positionals.length > 1 || (values.every === undefined) === (values.cron === undefined)) throw new Error(SOURCES_USAGE);
  if (values.tz !== undefined && values.cron === undefined) throw new Error(`--tz goes with --cron\n${SOURCES_USAGE}`);
  // Numbers are passed on as numbers when they read as one, else as written: the API names the field at fault.
  const num = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
  return {
    type: 'site',
    url,
    schedule: values.every !== undefined ? { every: values.every } : { cron: values.cron, ...(values.tz ? { tz: values.tz } : {}) },
    ...(values['knowledge-base'] ? { knowledgeBase: values['knowledge-base'] } : {}),
    ...(values['max-pages'] ? { maxPages: num(values['max-pages']) } : {}),
    ...(values['max-depth'] ? { maxDepth: num(values['max-depth']) } : {}),
    ...(values.engine ? { engine: values.engine } : {}),
    ...(values.include ? { includePaths: values.include } : {}),
    ...(values.exclude ? { excludePaths: values.exclude } : {}),
    ...(values['ignore-robots'] ? { respectRobots: false } : {}),
    ...(values.sitemaps ? { sitemaps: values.sitemaps } : {}),
    ...(values['keep-unreached'] ? { deleteUnreached: false } : {}),
  };
}

const scheduleText = (s: { every?: string; cron?: string; tz?: string }) => (s.every ? `every ${s.every}` : `cron "${s.cron}"${s.tz ? ` ${s.tz}` : ''}`);
const reportText = (r: {
  new: number;
  changed: number;
  unchanged: number;
  deleted: number;
  failed: number;
  bytesFetched: number;
  durationMs: number;
  stopReason?: string;
}) =>
  `new ${r.new}, changed ${r.changed}, unchanged ${r.unchanged}, deleted ${r.deleted}, failed ${r.failed}, ${r.bytesFetched} bytes, ${(r.durationMs / 1000).toFixed(1)} s${r.stopReason ? `, ${r.stopReason}` : ''}`;

/** Runs one `sources` subcommand; returns the exit code. */
export async function sourcesCommand(args: string[], call: Call, out: (line: string) => void, waitForTask: (id: string) => Promise<any>): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { json } = await call('POST', '/v1/sources', addRequest(rest));
      out(`source ${json.id}: ${json.url}, ${scheduleText(json.schedule)}${json.nextRunAt ? `, next run ${json.nextRunAt}` : ''}`);
      return 0;
    }
    case 'list': {
      let after: string | undefined;
      do {
        const { json } = await call('GET', `/v1/sources?limit=100${after ? `&after=${after}` : ''}`);
        for (const s of json.sources) {
          out(`${s.id}  ${s.url}  ${scheduleText(s.schedule)}  kb ${s.knowledgeBase}`);
          out(
            `    last run: ${s.lastRun ? `${s.lastRun.state} ${s.lastRun.createdAt} (${reportText(s.lastRun.report)})` : 'none'}; next run: ${s.nextRunAt ?? 'none'}`,
          );
        }
        after = json.nextCursor;
      } while (after);
      return 0;
    }
    case 'run': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { wait: { type: 'boolean' } } });
      if (positionals.length !== 1) throw new Error(SOURCES_USAGE);
      const { json } = await call('POST', `/v1/sources/${encodeURIComponent(positionals[0]!)}/runs`);
      out(`run ${json.taskId}`);
      if (!values.wait) return 0;
      const task = await waitForTask(json.taskId);
      out(`${task.state}: ${reportText(task.report)}`);
      return task.state === 'completed' ? 0 : 1;
    }
    case 'runs': {
      if (rest.length !== 1) throw new Error(SOURCES_USAGE);
      const { json } = await call('GET', `/v1/sources/${encodeURIComponent(rest[0]!)}/runs?limit=100`);
      for (const r of json.runs) out(`${r.taskId}  ${r.createdAt}  ${r.trigger}  ${r.state}: ${reportText(r.report)}`);
      return 0;
    }
    case 'rm': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { purge: { type: 'boolean' } } });
      if (positionals.length !== 1) throw new Error(SOURCES_USAGE);
      const { status, json } = await call('DELETE', `/v1/sources/${encodeURIComponent(positionals[0]!)}${values.purge ? '?purge=true' : ''}`);
      out(status === 202 ? `removed; purge task ${json.taskId}` : 'removed');
      return 0;
    }
    case undefined:
    default:
      throw new Error(SOURCES_USAGE);
  }
}
