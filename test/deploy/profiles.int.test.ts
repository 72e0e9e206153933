// KBFLOW_PROFILE (issue 12 item 7): a profile fills in the variables it
// sizes where the environment leaves them unset, an explicit value wins,
// `standard` is exactly the schemas' defaults, and README's table is the
// code's table.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { EnvError, PROFILE_NAMES, PROFILE_ROWS, profileTable } from '@kbflow/config';
import { REPO_ROOT } from '@kbflow/testing';
import { loadEnv as loadAggregatorEnv } from '../../services/aggregator/src/env.ts';
import { loadEnv as loadApiEnv } from '../../services/api/src/env.ts';
import { loadEnv as loadEmbedderEnv } from '../../services/embedder/src/env.ts';
import { loadEnv as loadMaintenanceEnv } from '../../services/maintenance/src/env.ts';
import { loadEnv as loadScraperEnv } from '../../services/scraper/src/env.ts';
import { ENV_SCHEMAS, SERVICES, type Service } from './support/env-schemas.ts';

const LOADERS: Record<Service, (env: Record<string, string | undefined>) => Record<string, unknown>> = {
  api: loadApiEnv,
  scraper: loadScraperEnv,
  embedder: loadEmbedderEnv,
  aggregator: loadAggregatorEnv,
  maintenance: loadMaintenanceEnv,
};

/** The services a row applies to: its own, or every one whose schema reads the variable. */
const servicesOf = (row: (typeof PROFILE_ROWS)[number]): Service[] =>
  row.service ? [row.service] : SERVICES.filter((s) => ENV_SCHEMAS[s].keys.includes(row.variable));

describe('KBFLOW_PROFILE', () => {
  it('names only variables the services read, each by a service it applies to', () => {
    expect(
      PROFILE_ROWS.filter((row) => servicesOf(row).length === 0 || servicesOf(row).some((s) => !ENV_SCHEMAS[s].keys.includes(row.variable))).map(
        (r) => r.variable,
      ),
    ).toEqual([]);
  });

  it('standard is every schema default, so an unset profile and standard are the same deployment', () => {
    const differing = PROFILE_ROWS.flatMap((row) =>
      servicesOf(row)
        .filter((s) => ENV_SCHEMAS[s].defaults[row.variable] !== row.values.standard)
        .map((s) => `${s} ${row.variable}: schema ${ENV_SCHEMAS[s].defaults[row.variable]}, standard ${row.values.standard}`),
    );
    expect(differing).toEqual([]);
  });

  it.each(PROFILE_NAMES)('%s gives each service its values where nothing is set', (profile) => {
    for (const row of PROFILE_ROWS) {
      for (const service of servicesOf(row)) {
        const env = LOADERS[service]({ KBFLOW_PROFILE: profile });
        expect([service, row.variable, String(env[row.variable])]).toEqual([service, row.variable, row.values[profile]]);
      }
    }
  });

  it('an explicit value wins over the profile; an empty one is unset, so the profile applies', () => {
    expect(loadScraperEnv({ KBFLOW_PROFILE: 'high-throughput' }).KBFLOW_WORKER_CONCURRENCY).toBe(32);
    expect(loadScraperEnv({ KBFLOW_PROFILE: 'high-throughput', KBFLOW_WORKER_CONCURRENCY: '3' }).KBFLOW_WORKER_CONCURRENCY).toBe(3);
    expect(loadScraperEnv({ KBFLOW_PROFILE: 'high-throughput', KBFLOW_WORKER_CONCURRENCY: '' }).KBFLOW_WORKER_CONCURRENCY).toBe(32);
    // A per-service row leaves the other services alone: maintenance keeps its own default.
    expect(loadMaintenanceEnv({ KBFLOW_PROFILE: 'high-throughput' }).KBFLOW_WORKER_CONCURRENCY).toBe(2);
    expect(loadEmbedderEnv({ KBFLOW_PROFILE: 'local', KBFLOW_EMBED_REQUEST_SIZE: '16' }).KBFLOW_EMBED_REQUEST_SIZE).toBe(16);
  });

  it('an unknown profile stops the service, naming the variable', () => {
    let error: unknown;
    try {
      loadEmbedderEnv({ KBFLOW_PROFILE: 'huge' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).issues).toEqual([expect.stringMatching(/^KBFLOW_PROFILE: /)]);
  });

  it("README's Sizing table is the code's", () => {
    expect(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`${profileTable()}\n`);
  });
});
