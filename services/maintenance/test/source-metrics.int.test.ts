import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { createTestDatabase, type TestDatabase } from '@kbflow/testing';
import { Registry } from 'prom-client';
import { readSourceFreshness, registerSourceMetrics } from '../src/source-metrics.ts';

// The freshness series (issue 11, item 8) read from a real PostgreSQL:
// sources and their runs as the sources code writes them.
let database: TestDatabase;
let db: Db;
let kb: string;
let tenant: string;

const HOUR = 3600 * 1000;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  tenant = (await db.tenant.create({ data: { name: `freshness-${Date.now()}` } })).id;
  kb = (await db.knowledgeBase.create({ data: { tenantId: tenant, slug: 'docs', name: 'docs' } })).id;
}, 60_000);

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

async function source(schedule: object, createdAt: Date): Promise<string> {
  const row = await db.source.create({
    data: { tenantId: tenant, knowledgeBaseId: kb, type: 'site', url: 'https://docs.example/', schedule, maxPages: 10, maxDepth: 2, engine: 'auto', createdAt },
  });
  return row.id;
}

async function run(sourceId: string, state: 'completed' | 'failed', finishedAt: Date, result: object): Promise<void> {
  await db.task.create({
    data: {
      tenantId: tenant,
      knowledgeBaseId: kb,
      type: 'crawl',
      state,
      params: {},
      sourceId,
      result,
      startedAt: new Date(finishedAt.getTime() - 60_000),
      finishedAt,
    },
  });
}

describe('source freshness metrics', () => {
  it('report each source: last success, interval, last run pages and 304 share, and how many are overdue', async () => {
    const now = Date.now();
    // Fresh: ran an hour ago, every 6 h; its last run was a recrawl, 8 of 10 pages 304.
    const fresh = await source({ every: '6h' }, new Date(now - 48 * HOUR));
    await run(fresh, 'completed', new Date(now - HOUR), { new: 0, changed: 1, unchanged: 9, notModified: 8, deleted: 2, failed: 0 });
    // Overdue: its last success is 5 h old at an hourly cron, and its last run (later) failed.
    const stale = await source({ cron: '0 * * * *', tz: 'Europe/Paris' }, new Date(now - 48 * HOUR));
    await run(stale, 'completed', new Date(now - 5 * HOUR), { new: 3, changed: 0, unchanged: 0, notModified: 0, deleted: 0, failed: 0 });
    await run(stale, 'failed', new Date(now - 30 * 60_000), { new: 0, changed: 0, unchanged: 0, notModified: 0, deleted: 0, failed: 3 });
    // Never ran: measured from its creation (20 min ago, every 1 h): not overdue yet.
    const young = await source({ every: '1h' }, new Date(now - 20 * 60_000));

    const { sources, overdue } = await readSourceFreshness(db, now);
    expect(overdue).toBe(1);
    // The most overdue first.
    expect(sources.map((s) => s.id)).toEqual([stale, young, fresh]);
    const byId = new Map(sources.map((s) => [s.id, s]));
    expect(byId.get(fresh)).toEqual({
      id: fresh,
      lastSuccessSeconds: expect.closeTo((now - HOUR) / 1000, 0),
      intervalSeconds: 6 * 3600,
      lastRun: { new: 0, changed: 1, unchanged: 9, deleted: 2, failed: 0, notModifiedRatio: 0.8 },
    });
    expect(byId.get(stale)).toMatchObject({ intervalSeconds: 3600, lastRun: { failed: 3, notModifiedRatio: 0 } });
    expect(byId.get(young)).not.toHaveProperty('lastRun');

    const registry = new Registry();
    registerSourceMetrics(registry, db);
    const text = await registry.metrics();
    expect(text).toContain(`kbflow_source_interval_seconds{source="${fresh}"} 21600`);
    expect(text).toContain(`kbflow_source_last_run_pages{source="${fresh}",change="deleted"} 2`);
    expect(text).toContain(`kbflow_source_last_run_not_modified_ratio{source="${fresh}"} 0.8`);
    expect(text).toMatch(/^kbflow_sources_overdue 1$/m);
    expect(text).toMatch(new RegExp(`^kbflow_source_last_success_timestamp_seconds\\{source="${young}"\\} ${Math.floor((now - 20 * 60_000) / 1000)}`, 'm'));
  });
});
