// The container image, checked without a docker engine: the Dockerfile's
// stages and the build context it relies on, and the entrypoint script, which
// runs for real (with a stand-in `node`, and once with the real one to apply
// the migrations to a fresh database).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { adminUrl, REPO_ROOT, SERVICE_ENV, serviceNodeFlags } from '@kbflow/testing';
import pg from 'pg';
import { ENV_SCHEMAS, SERVICES } from './support/env-schemas.ts';

const DOCKERFILE = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ENTRYPOINT = path.join(REPO_ROOT, 'docker', 'entrypoint.sh');

interface Stage {
  name: string;
  from: string;
  body: string;
}

/** The Dockerfile's stages, with ARG defaults substituted into FROM. */
function stages(): Stage[] {
  const args = Object.fromEntries([...DOCKERFILE.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  const parts = DOCKERFILE.split(/^(?=FROM\s)/m).slice(1);
  return parts.map((part) => {
    const m = /^FROM\s+(\S+)\s+AS\s+(\S+)/i.exec(part);
    if (!m) throw new Error(`unnamed stage: ${part.split('\n')[0]}`);
    const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
    return { name: m[2]!, from, body: part };
  });
}

function stage(name: string): Stage {
  const found = stages().find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
}

/** The root image a stage ultimately builds on, following stage-to-stage FROMs. */
function rootImage(name: string): string {
  const all = stages();
  let current = stage(name);
  for (;;) {
    const parent = all.find((s) => s.name === current.from);
    if (!parent) return current.from;
    current = parent;
  }
}

/** A minimal .dockerignore matcher: `*`, `**`, directory prefixes and `!` exceptions; the last match wins. */
function dockerignored(relPath: string): boolean {
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split(/(\*\*\/|\*\*|\*|\?)/)
      .map((part) =>
        part === '**/' ? '(?:.*/)?' : part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    if (new RegExp(`^${source}(?:/.*)?$`).test(relPath)) ignored = !negate;
  }
  return ignored;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A directory holding a stand-in `node` that prints its working directory and arguments. */
function fakeNodeDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kbflow-fake-node-'));
  tempDirs.push(dir);
  const fake = path.join(dir, 'node');
  writeFileSync(fake, '#!/bin/sh\necho "$PWD"\nfor a in "$@"; do echo "$a"; done\n');
  chmodSync(fake, 0o755);
  return dir;
}

function runEntrypoint(args: string[], env: Record<string, string>, cwd = tmpdir()) {
  return spawnSync('sh', [ENTRYPOINT, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
}

describe('Dockerfile', () => {
  it('builds both final targets on node:24-bookworm-slim, the default target being the general runtime', () => {
    const names = stages().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['fetch', 'build', 'prod', 'runtime', 'scraper']));
    expect(names.at(-1)).toBe('runtime');
    expect(rootImage('runtime')).toBe('node:24-bookworm-slim');
    expect(rootImage('scraper')).toBe('node:24-bookworm-slim');
  });

  it('sets the service environment the tests and benchmarks run with, as does ./kbflow up', () => {
    const kbflow = readFileSync(path.join(REPO_ROOT, 'kbflow'), 'utf8');
    for (const [name, value] of Object.entries(SERVICE_ENV)) {
      expect(DOCKERFILE).toMatch(new RegExp(`^\\s*(ENV\\s+)?${name}=${value}\\b`, 'm'));
      expect(kbflow).toContain(`export ${name}="\${${name}:-${value}}"`);
    }
  });

  it('installs from the frozen lockfile with the pnpm version package.json pins, and generates the Prisma client', () => {
    const pinned = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;
    expect(DOCKERFILE).toContain(`ARG PNPM_VERSION=${pinned.replace('pnpm@', '')}`);
    expect(stage('build').body).toMatch(/pnpm install --offline --frozen-lockfile\n/);
    expect(stage('prod').body).toMatch(/pnpm install --offline --frozen-lockfile --prod\n/);
    expect(stage('build').body).toMatch(/DATABASE_URL=postgresql:\/\/\S+[\s\\]+.*node_modules\/\.bin\/prisma generate/s);
    expect(stage('prod').body).toContain('COPY --from=build /app/packages/db/src/generated packages/db/src/generated');
  });

  it('runs both targets as a numeric non-root user through tini and the entrypoint', () => {
    for (const name of ['runtime', 'scraper']) {
      const body = stage(name).body;
      const users = [...body.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
      expect([name, users.at(-1)]).toEqual([name, '1000:1000']);
      expect(body).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]');
    }
    expect(stage('os').body).toMatch(/apt-get install -y --no-install-recommends tini/);
  });

  it("installs Chromium in the scraper target only, at the path the scraper's schema expects", () => {
    expect(stage('scraper').body).toMatch(/apt-get install -y --no-install-recommends chromium/);
    expect(stage('runtime').body).not.toMatch(/chromium/);
    expect(stage('os').body).not.toMatch(/chromium/);
    expect(stage('scraper').body).toContain(`ENV KBFLOW_CHROMIUM_PATH=${ENV_SCHEMAS.scraper.defaults.KBFLOW_CHROMIUM_PATH}`);
  });

  it('the build context has what the image needs and none of the host-built or secret files', () => {
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      'prisma.config.ts',
      'prisma/schema.prisma',
      'docker/entrypoint.sh',
      'packages/db/src/migrate.cli.ts',
      ...readdirSync(path.join(REPO_ROOT, 'prisma/migrations')).map((m) => `prisma/migrations/${m}`),
      ...SERVICES.map((s) => `services/${s}/src/main.ts`),
      ...readdirSync(path.join(REPO_ROOT, 'packages')).map((p) => `packages/${p}/package.json`),
    ];
    for (const file of needed) expect([file, existsSync(path.join(REPO_ROOT, file)), dockerignored(file)]).toEqual([file, true, false]);
    for (const file of [
      'node_modules/x',
      'packages/db/node_modules/x',
      'packages/db/src/generated/client.ts',
      '.env',
      '.git/HEAD',
      '.tools/pnpm',
      'services/api/src/app.test.ts',
    ]) {
      expect([file, dockerignored(file)]).toEqual([file, true]);
    }
    expect(dockerignored('.env.example')).toBe(false);
  });
});

describe('docker/entrypoint.sh', () => {
  it('is valid sh', () => {
    expect(spawnSync('sh', ['-n', ENTRYPOINT]).status).toBe(0);
  });

  it('runs each service and the migration from the application root, whatever the working directory', () => {
    const env = { PATH: `${fakeNodeDir()}:/usr/bin:/bin` };
    // Services get the flags of config/service-node-flags (the same the tests and benchmarks use); the migration none.
    const flags = serviceNodeFlags();
    expect(flags).toContain('--max-semi-space-size=16');
    for (const [arg, args] of [
      ...SERVICES.map((s) => [s, [...flags, `services/${s}/src/main.ts`]] as const),
      ['migrate', ['packages/db/src/migrate.cli.ts']] as const,
    ]) {
      const file = args.at(-1)!;
      const run = runEntrypoint([arg, '--extra'], env);
      expect([arg, run.status, run.stdout.trim().split('\n')]).toEqual([arg, 0, [REPO_ROOT, ...args, '--extra']]);
      expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
    }
  });

  it('refuses to start without a target, and runs any other command as given', () => {
    const env = { PATH: '/usr/bin:/bin' };
    const none = runEntrypoint([], env);
    expect([none.status, none.stderr]).toEqual([64, expect.stringContaining('usage: entrypoint.sh <api|scraper|embedder|aggregator|maintenance|migrate>')]);
    const other = runEntrypoint(['echo', 'debug', 'shell'], env);
    expect([other.status, other.stdout]).toEqual([0, 'debug shell\n']);
  });

  it('`migrate` creates a missing database, applies every migration, and is a no-op the second time', async () => {
    const name = `kbflow_entry_${process.pid}_${Date.now().toString(36)}`;
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, DATABASE_URL: url.toString(), KBFLOW_CREATE_DATABASE: 'true' };
    const migrations = readdirSync(path.join(REPO_ROOT, 'prisma/migrations'), { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    try {
      const first = runEntrypoint(['migrate'], env);
      expect([first.status, first.stderr]).toEqual([0, expect.any(String)]);
      expect(first.stdout).toContain('created database');
      expect(first.stdout).toContain(`migrations: ${migrations} applied`);
      const second = runEntrypoint(['migrate'], { ...env, KBFLOW_CREATE_DATABASE: 'false' });
      expect([second.status, second.stdout.trim()]).toEqual([0, `migrations: 0 applied, ${migrations} already applied`]);
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL');
        expect(Number(rows[0]?.n)).toBe(migrations);
      } finally {
        await client.end();
      }
    } finally {
      const admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);
});
