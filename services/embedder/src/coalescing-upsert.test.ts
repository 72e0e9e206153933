import { describe, expect, it } from '@jest/globals';
import type { VectorRecord } from '@kbflow/vector-store';
import { CoalescingUpsert } from './coalescing-upsert.ts';

const record = (id: string, dim = 1): VectorRecord => ({
  id,
  vector: [dim],
  payload: { tenantId: 't', knowledgeBaseId: 'k', documentId: 'd', contentType: 'record' },
});

function store(opts: { fail?: boolean } = {}) {
  const writes: string[][] = [];
  let release: (() => void) | undefined;
  let hold = true;
  return {
    writes,
    release: () => {
      hold = false;
      release?.();
    },
    upsert: async (records: VectorRecord[]) => {
      if (hold) await new Promise<void>((r) => (release = r));
      if (opts.fail) throw new Error('store down');
      writes.push(records.map((r) => `${r.id}:${r.vector[0]}`));
    },
  };
}

describe('CoalescingUpsert', () => {
  it('writes one upsert at a time, and the calls that arrive meanwhile together in the next, the last record of an id winning', async () => {
    const s = store();
    const writer = new CoalescingUpsert(s);
    const first = writer.upsert([record('a')]);
    const second = writer.upsert([record('b'), record('c')]);
    const third = writer.upsert([record('c', 2), record('d')]);
    await new Promise((r) => setImmediate(r));
    s.release();
    await Promise.all([first, second, third]);
    expect(s.writes).toEqual([['a:1'], ['b:1', 'c:2', 'd:1']]);
  });

  it('fails every call of a failed write, and keeps writing later ones', async () => {
    const s = store({ fail: true });
    const writer = new CoalescingUpsert(s);
    const first = writer.upsert([record('a')]);
    const second = writer.upsert([record('b')]);
    s.release();
    await expect(first).rejects.toThrow('store down');
    await expect(second).rejects.toThrow('store down');
  });

  it('caps a write at maxRecords', async () => {
    const s = store();
    s.release();
    const writer = new CoalescingUpsert(s, { maxRecords: 3 });
    await Promise.all([writer.upsert([record('a'), record('b')]), writer.upsert([record('c'), record('d')]), writer.upsert([record('e')])]);
    expect(s.writes.map((w) => w.length)).toEqual([2, 3]);
  });
});
