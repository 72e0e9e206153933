import pg from 'pg';
import { adminUrl, TEMPLATE_ENV } from './databases.ts';

/** Drops this run's template database. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env[TEMPLATE_ENV];
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    if (name) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
