import { describe, expect, it } from '@jest/globals';
import type { SearchLogEntry, SearchLogRepository } from '@kbflow/db';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { SearchLogWriter } from './search-log-writer.ts';

const entry = (query: string): SearchLogEntry => ({
  tenantId: 't',
  knowledgeBaseId: 'kb',
  kind: 'search',
  query,
  mode: 'hybrid',
  filters: {},
  latencyMs: 3,
  hits: 1,
  topScore: 0.5,
  degraded: null,
});

/** A repository that keeps the batches it was given, failing the calls listed in `failOn` (1-based). */
function fakeRepository(failOn: number[] = []) {
  const batches: string[][] = [];
  let calls = 0;
  const repository = {
    insertMany: async (rows: SearchLogEntry[]) => {
      calls++;
      if (failOn.includes(calls)) throw new Error('connection refused');
      batches.push(rows.map((r) => r.query));
      return rows.length;
    },
  } as unknown as SearchLogRepository;
  return { repository, batches };
}

async function value(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
}

const silent = pino({ level: 'silent' });
// A long interval: these tests flush by hand, so the timer never interferes.
const manual = { flushIntervalMs: 60_000 };

describe('SearchLogWriter', () => {
  it('buffers entries and writes them in order, in batches, on flush', async () => {
    const { repository, batches } = fakeRepository();
    const registry = new Registry();
    const writer = new SearchLogWriter(repository, { log: silent, registry }, { ...manual, batchSize: 2 });
    for (const q of ['a', 'b', 'c']) writer.record(entry(q));
    expect(batches).toEqual([]);
    await writer.flush();
    expect(batches).toEqual([['a', 'b'], ['c']]);
    expect(await value(registry, 'kbflow_search_logs_written_total')).toBe(3);
    await writer.close();
  });

  it('drops and counts a batch whose write failed, and goes on with the next', async () => {
    const { repository, batches } = fakeRepository([1]);
    const registry = new Registry();
    const writer = new SearchLogWriter(repository, { log: silent, registry }, { ...manual, batchSize: 1 });
    writer.record(entry('lost'));
    writer.record(entry('kept'));
    await expect(writer.flush()).resolves.toBeUndefined();
    expect(batches).toEqual([['kept']]);
    expect(await value(registry, 'kbflow_search_logs_dropped_total')).toBe(1);
    await writer.close();
  });

  it('keeps at most maxBuffered entries, dropping the oldest', async () => {
    const { repository, batches } = fakeRepository();
    const registry = new Registry();
    const writer = new SearchLogWriter(repository, { log: silent, registry }, { ...manual, maxBuffered: 2 });
    for (const q of ['1', '2', '3', '4']) writer.record(entry(q));
    await writer.flush();
    expect(batches).toEqual([['3', '4']]);
    expect(await value(registry, 'kbflow_search_logs_dropped_total')).toBe(2);
    await writer.close();
  });

  it('writes what is left on close and takes nothing after it', async () => {
    const { repository, batches } = fakeRepository();
    const writer = new SearchLogWriter(repository, { log: silent, registry: new Registry() }, manual);
    writer.record(entry('last'));
    await writer.close();
    writer.record(entry('too late'));
    await writer.flush();
    expect(batches).toEqual([['last']]);
  });

  it('flushes by itself on its interval', async () => {
    const { repository, batches } = fakeRepository();
    const writer = new SearchLogWriter(repository, { log: silent, registry: new Registry() }, { flushIntervalMs: 20 });
    writer.record(entry('timed'));
    const deadline = Date.now() + 5000;
    while (batches.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(batches).toEqual([['timed']]);
    await writer.close();
  });
});
