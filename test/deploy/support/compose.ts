import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@kbflow/testing';
import { parse } from 'yaml';

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

export interface ComposeBuild {
  context?: string;
  dockerfile?: string;
  target?: string;
}

export interface ComposeService {
  image?: string;
  build?: string | ComposeBuild;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  volumes?: (string | { source?: string; target?: string })[];
  ports?: (string | number)[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

/** The compose file as docker compose reads it: YAML 1.1 merge keys (`<<: *anchor`) resolved. */
export function loadCompose(text = readFileSync(COMPOSE_FILE, 'utf8')): ComposeFile {
  const parsed = parse(text, { merge: true }) as ComposeFile | null;
  if (!parsed || typeof parsed !== 'object' || !parsed.services) throw new Error('compose file has no services');
  return parsed;
}

/**
 * Compose's variable substitution: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `$VAR` and `$$` (a literal `$`), against `vars` (an empty shell by default).
 */
export function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, op, fallback, bare) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare) as string;
    const current = vars[name];
    if (op === ':-') return current ? current : (fallback as string);
    if (op === '-') return current !== undefined ? current : (fallback as string);
    return current ?? '';
  });
}

/** A service's environment after substitution, as the container would see it. */
export function serviceEnvironment(service: ComposeService, vars: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line) => {
        const eq = line.indexOf('=');
        return eq < 0 ? [line, vars[line] ?? ''] : [line.slice(0, eq), line.slice(eq + 1)];
      })
    : Object.entries(raw);
  for (const [key, value] of entries) env[key] = value === null || value === undefined ? '' : interpolate(String(value), vars);
  return env;
}

export function dependencies(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

/** Compose durations (`35s`, `1m30s`, `500ms`) in seconds. */
export function durationSeconds(value: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let consumed = '';
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    consumed += m[0];
  }
  if (consumed !== value) throw new Error(`not a compose duration: ${value}`);
  return total;
}
