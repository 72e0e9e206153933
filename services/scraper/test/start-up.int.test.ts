import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@kbflow/testing';

describe('start-up configuration', () => {
  it.each(['api', 'scraper', 'embedder', 'aggregator', 'maintenance'])(
    '%s refuses to start on bad variables and names each one, never its value',
    (service) => {
      const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'services', service, 'src', 'main.ts')], {
        env: {
          PATH: process.env.PATH ?? '',
          REDIS_URL: 'not-a-url-secret-value',
          KBFLOW_SHUTDOWN_TIMEOUT_MS: 'soon',
          LOG_LEVEL: 'loud',
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      const output = result.stdout + result.stderr;
      expect(output).toContain('REDIS_URL');
      expect(output).toContain('KBFLOW_SHUTDOWN_TIMEOUT_MS');
      expect(output).toContain('LOG_LEVEL');
      expect(output).not.toContain('not-a-url-secret-value');
    },
    30_000,
  );

  it('the api in production refuses the Kubernetes template key and names the variable, never the value', () => {
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'services', 'api', 'src', 'main.ts')], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', KBFLOW_ADMIN_API_KEY: 'REPLACE_ME' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/KBFLOW_ADMIN_API_KEY: looks like a placeholder/);
    expect(output).not.toContain('REPLACE_ME');
  }, 30_000);
});
