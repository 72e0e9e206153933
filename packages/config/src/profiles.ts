import { z } from 'zod';

/**
 * KBFLOW_PROFILE: one knob that sizes a deployment (issue 12 item 7). A
 * profile fills in the variables below that the environment leaves unset;
 * a variable that is set always wins. `standard` is what every schema
 * defaults to, so an unset profile and `standard` are the same deployment
 * (profiles.test.ts holds the two equal, and holds README's table to this
 * one).
 *
 * - `local`: one machine running everything beside an editor (`./kbflow up`):
 *   fewer jobs at once and smaller caches, so the stack stays light.
 * - `standard`: one replica of each service on its own couple of cores.
 * - `high-throughput`: large replicas in front of a provider with high rate
 *   limits: more jobs in flight per process, larger provider requests and
 *   vector-store writes, larger caches, a deeper admission backlog.
 */
export const PROFILE_NAMES = ['local', 'standard', 'high-throughput'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const profileEnvShape = {
  KBFLOW_PROFILE: z.enum(PROFILE_NAMES).default('standard'),
};

/** The programs a profile row can be limited to (a variable several services read, with a value per service). */
export type ProfiledService = 'api' | 'scraper' | 'embedder' | 'aggregator' | 'maintenance';

export interface ProfileRow {
  variable: string;
  /** Only this service takes the row (KBFLOW_WORKER_CONCURRENCY differs per service); absent: every program that reads the variable. */
  service?: ProfiledService;
  values: Record<ProfileName, string>;
  what: string;
}

export const PROFILE_ROWS: readonly ProfileRow[] = [
  {
    variable: 'KBFLOW_WORKER_CONCURRENCY',
    service: 'scraper',
    values: { local: '4', standard: '8', 'high-throughput': '32' },
    what: 'pages fetched at once per scraper',
  },
  {
    variable: 'KBFLOW_WORKER_CONCURRENCY',
    service: 'embedder',
    values: { local: '8', standard: '16', 'high-throughput': '64' },
    what: 'embed jobs at once per embedder',
  },
  {
    variable: 'KBFLOW_WORKER_CONCURRENCY',
    service: 'aggregator',
    values: { local: '4', standard: '16', 'high-throughput': '32' },
    what: 'queries and completions at once per aggregator',
  },
  {
    variable: 'KBFLOW_HOST_MAX_CONCURRENCY',
    values: { local: '4', standard: '4', 'high-throughput': '8' },
    what: 'requests in flight to one host, all scrapers together',
  },
  {
    variable: 'KBFLOW_EMBED_REQUEST_SIZE',
    values: { local: '64', standard: '128', 'high-throughput': '256' },
    what: 'texts per embedding request to the provider',
  },
  { variable: 'KBFLOW_EMBED_BATCH_MAX_CHUNKS', values: { local: '512', standard: '1024', 'high-throughput': '4096' }, what: 'chunks per vector-store write' },
  { variable: 'KBFLOW_EMBEDDING_CACHE_MB', values: { local: '32', standard: '64', 'high-throughput': '256' }, what: 'embedding cache per process' },
  {
    variable: 'KBFLOW_QUERY_CACHE_SIZE',
    values: { local: '1000', standard: '10000', 'high-throughput': '100000' },
    what: 'query embeddings kept per aggregator',
  },
  { variable: 'KBFLOW_LANCEDB_INDEX_CACHE_MB', values: { local: '32', standard: '64', 'high-throughput': '512' }, what: 'LanceDB index cache per process' },
  {
    variable: 'KBFLOW_ADMISSION_MAX_BACKLOG',
    values: { local: '20000', standard: '100000', 'high-throughput': '1000000' },
    what: 'waiting jobs past which the api answers 503',
  },
  { variable: 'KBFLOW_WEBHOOK_CONCURRENCY', values: { local: '5', standard: '10', 'high-throughput': '50' }, what: 'webhook deliveries at once' },
];

/**
 * The environment with the profile's values filled in where unset (empty
 * counts as unset, as in parseEnv). An unknown profile is left for the
 * schema to reject, naming KBFLOW_PROFILE.
 */
export function applyProfile(source: Record<string, string | undefined>, service?: ProfiledService): Record<string, string | undefined> {
  const raw = source.KBFLOW_PROFILE || 'standard';
  if (!(PROFILE_NAMES as readonly string[]).includes(raw)) return source;
  const profile = raw as ProfileName;
  const out = { ...source };
  for (const row of PROFILE_ROWS) {
    if (row.service !== undefined && row.service !== service) continue;
    if (out[row.variable] === undefined || out[row.variable] === '') out[row.variable] = row.values[profile];
  }
  return out;
}

/** README's table of the profiles, as markdown (profiles.test.ts checks README holds exactly this). */
export function profileTable(): string {
  const head = `| variable | ${PROFILE_NAMES.join(' | ')} | what |\n|---|${PROFILE_NAMES.map(() => '---|').join('')}---|`;
  const rows = PROFILE_ROWS.map(
    (r) => `| \`${r.variable}\`${r.service ? ` (${r.service})` : ''} | ${PROFILE_NAMES.map((p) => r.values[p]).join(' | ')} | ${r.what} |`,
  );
  return [head, ...rows].join('\n');
}
