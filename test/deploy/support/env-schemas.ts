// The environment variables the code reads, taken from the zod schemas
// themselves (never a hand-written list), so that a variable added to a
// schema fails the deployment tests until .env.example, compose and the
// Kubernetes ConfigMap/Secret document it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@kbflow/testing';
import { parseEnv } from '../../../packages/config/src/parse-env.ts';
import { migrateEnvSchema } from '../../../packages/db/src/migrate-env.ts';
import { aggregatorEnvSchema } from '../../../services/aggregator/src/env.ts';
import { apiEnvSchema } from '../../../services/api/src/env.ts';
import { embedderEnvSchema } from '../../../services/embedder/src/env.ts';
import { maintenanceEnvSchema } from '../../../services/maintenance/src/env.ts';
import { scraperEnvSchema } from '../../../services/scraper/src/env.ts';

export const SERVICES = ['api', 'scraper', 'embedder', 'aggregator', 'maintenance'] as const;
export type Service = (typeof SERVICES)[number];
export const WORKERS = ['scraper', 'embedder', 'aggregator', 'maintenance'] as const;
export type Program = Service | 'migrate';

interface SafeParseable {
  safeParse(input: unknown): { success: boolean; data?: unknown };
}
interface ObjectSchema extends SafeParseable {
  shape: Record<string, unknown>;
}

/**
 * The zod object under a schema: the schema itself, or the input side of a
 * pipe (`z.object(...).transform(...)` is a ZodPipe whose `.in` is the object).
 */
function objectSchemaOf(schema: unknown): ObjectSchema {
  let current: unknown = schema;
  for (let depth = 0; depth < 10 && current; depth++) {
    if (typeof current === 'object' && 'shape' in current && 'safeParse' in current) return current as ObjectSchema;
    current = typeof current === 'object' && 'in' in current ? (current as { in: unknown }).in : undefined;
  }
  throw new Error('not a zod object schema (or a pipe from one)');
}

export interface EnvSchemaInfo {
  /** Every variable the schema reads. */
  keys: string[];
  /** The default of each variable that has one, as the string an environment would carry. */
  defaults: Record<string, string>;
  /** Parses an environment exactly as the program does at start; the problems, empty when valid. */
  problems(env: Record<string, string | undefined>): string[];
}

function describeSchema(schema: unknown): EnvSchemaInfo {
  const object = objectSchemaOf(schema);
  const parsed = object.safeParse({});
  if (!parsed.success) throw new Error('an env schema must parse an empty environment (every key has a default or is optional)');
  const defaults: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed.data as Record<string, unknown>)) {
    if (value !== undefined) defaults[key] = String(value);
  }
  return {
    keys: Object.keys(object.shape),
    defaults,
    problems: (env) => {
      try {
        parseEnv(schema as Parameters<typeof parseEnv>[0], env);
        return [];
      } catch (error) {
        return (error as { issues?: string[] }).issues ?? [(error as Error).message];
      }
    },
  };
}

/** Each program's env schema: the five services and the migration. */
export const ENV_SCHEMAS: Record<Program, EnvSchemaInfo> = {
  api: describeSchema(apiEnvSchema),
  scraper: describeSchema(scraperEnvSchema),
  embedder: describeSchema(embedderEnvSchema),
  aggregator: describeSchema(aggregatorEnvSchema),
  maintenance: describeSchema(maintenanceEnvSchema),
  migrate: describeSchema(migrateEnvSchema),
};

/** Every variable any service or the migration reads. */
export function allProgramKeys(): string[] {
  return [...new Set(Object.values(ENV_SCHEMAS).flatMap((s) => s.keys))].sort();
}

/**
 * The CLI's variables. Its schema is built inside main.ts, which runs on
 * import, so they are read from the source of its `z.object({...})`.
 */
export function cliKeys(): string[] {
  const source = readFileSync(path.join(REPO_ROOT, 'packages/cli/src/main.ts'), 'utf8');
  const block = /parseEnv\(\s*z\.object\(\{([\s\S]*?)\}\)/.exec(source)?.[1];
  if (!block) throw new Error('packages/cli/src/main.ts: no parseEnv(z.object({...})) found');
  const keys = [...block.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1] as string);
  if (keys.length === 0) throw new Error('packages/cli/src/main.ts: its env schema lists no variables');
  return keys;
}

/** Variables whose value is a credential: only ever in a Secret, blank in .env.example. */
export function isSecretKey(key: string): boolean {
  return /(_API_KEY|PASSWORD|SECRET|TOKEN)$/.test(key);
}

/** Keys of `wanted` that are in none of the `documented` sets. */
export function undocumented(wanted: Iterable<string>, ...documented: Iterable<string>[]): string[] {
  const known = new Set(documented.flatMap((d) => [...d]));
  return [...new Set(wanted)].filter((k) => !known.has(k)).sort();
}
