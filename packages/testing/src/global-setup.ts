import { applyMigrations } from '@kbflow/db';
import pg from 'pg';
import { adminUrl, TEMPLATE_ENV } from './databases.ts';

/**
 * Runs once before the integration tests: builds a migrated template
 * database, so each test file gets its own database by copying it
 * (`CREATE DATABASE ... TEMPLATE`, tens of milliseconds) instead of
 * re-running migrations. The template is named per run so that two runs on
 * one machine never drop each other's.
 */
export default async function globalSetup(): Promise<void> {
  const name = `kbflow_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  process.env[TEMPLATE_ENV] = name;
}
