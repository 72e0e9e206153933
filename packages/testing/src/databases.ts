import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server tests use; `KBFLOW_TEST_DATABASE_URL` overrides it. */
export function adminUrl(): string {
  return process.env.KBFLOW_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

/** The variable global-setup.ts sets to this run's migrated template database. */
export const TEMPLATE_ENV = 'KBFLOW_TEST_TEMPLATE_DB';

function templateDb(): string {
  const name = process.env[TEMPLATE_ENV];
  if (!name) throw new Error(`${TEMPLATE_ENV} is not set: integration tests run through the jest project "integration" (its globalSetup builds the template)`);
  return name;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

/** A fresh, migrated database for one test file, copied from the template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `kbflow_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDb()}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A queue prefix no other test uses (still hash-tagged, as in production). */
export function uniquePrefix(label = 't'): string {
  return `{kbflow-${label}-${randomBytes(4).toString('hex')}}`;
}

/** The Redis server tests use; `KBFLOW_TEST_REDIS_URL` overrides it. */
export function testRedisUrl(): string {
  return process.env.KBFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}
