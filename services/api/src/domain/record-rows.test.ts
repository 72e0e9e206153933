import { describe, expect, it } from '@jest/globals';
import { chunkRecord, groupByLimits, prepareRecord, recordUrl } from './record-document.ts';
import { toRecord } from './record-rows.ts';

describe('toRecord', () => {
  it('maps ticket-style columns by alias, case-insensitively, the rest into metadata', () => {
    const r = toRecord(7, { 'TICKET ID': '42', 'Ticket Subject': 'Refund', 'Ticket Description': 'Money back please', Product: 'GoPro' }, {});
    expect(r).toEqual({ row: 7, id: '42', title: 'Refund', body: 'Money back please', metadata: { Product: 'GoPro' } });
  });

  it('prefers named columns over aliases and merges an explicit metadata object', () => {
    const r = toRecord(
      1,
      { key: 'k1', id: 'not-this', headline: 'H', text: 'T', metadata: { a: 1 }, extra: true },
      { idColumn: 'KEY', titleColumn: 'headline' },
    );
    expect(r).toEqual({ row: 1, id: 'k1', title: 'H', body: 'T', metadata: { id: 'not-this', extra: true, a: 1 } });
  });

  it('numbers as ids become strings; without an id column idPrefix + row is the id', () => {
    expect(toRecord(3, { id: 17, body: 'b' }, {})).toMatchObject({ id: '17' });
    expect(toRecord(3, { body: 'b' }, { idPrefix: 'gh-' })).toMatchObject({ id: 'gh-3' });
    expect(toRecord(3, { body: 'b' }, {})).toMatchObject({ row: 3, field: 'id', reason: expect.stringContaining('missing') });
  });

  it('drops U+0000, which PostgreSQL text and jsonb cannot hold', () => {
    const r = toRecord(1, { id: 'a\u0000b', title: 't\u0000', body: 'make\u0000 deploy', note: 'x\u0000y', metadata: { 'k\u0000': 'v\u0000' } }, {});
    expect(r).toEqual({ row: 1, id: 'ab', title: 't', body: 'make deploy', metadata: { note: 'xy', k: 'v' } });
  });

  it('a deleted row needs only its id', () => {
    expect(toRecord(2, { id: 'x', deleted: true }, {})).toEqual({ row: 2, id: 'x' });
    expect(toRecord(2, { id: 'x', deleted: 'YES', body: '' }, {})).toEqual({ row: 2, id: 'x' });
    expect(toRecord(2, { id: 'x', deleted: 'false', body: 'kept' }, {})).toMatchObject({ body: 'kept' });
    expect(toRecord(2, { id: 'x', deleted: 'maybe' }, {})).toEqual({ row: 2, field: 'deleted', reason: 'must be true or false' });
  });

  it.each([
    [{ id: ' ', body: 'b' }, 'id'],
    [{ id: 'x', body: '   ' }, 'body'],
    [{ id: 'x', body: 'b'.repeat(1_000_001) }, 'body'],
    [{ id: 'x', title: 5, body: 'b' }, 'title'],
    [{ id: 'x', body: 'b', tags: ['a'] }, 'metadata.tags'],
    [{ id: 'x', body: 'b', metadata: 'flat?' }, 'metadata'],
  ])('names the field of %j', (fields, field) => {
    expect(toRecord(9, fields, {})).toMatchObject({ row: 9, field });
  });
});

describe('prepareRecord', () => {
  const base = { row: 1, id: 'a/b c', title: 'Printer\noffline', body: 'It is offline.', metadata: { z: 1, a: 'x' } };

  it('makes a record document: URL from source and encoded id, title heading, chunks', () => {
    const doc = prepareRecord('support', base);
    expect(doc.url).toBe('record://support/a%2Fb%20c');
    expect(doc.url).toBe(recordUrl('support', 'a/b c'));
    expect(doc.title).toBe('Printer offline');
    expect(doc.markdown).toBe('# Printer offline\n\nIt is offline.');
    expect(chunkRecord(doc).map((c) => [c.position, c.heading])).toEqual([[0, 'Printer offline']]);
    expect(Object.keys(doc.metadata)).toEqual(['a', 'z']);
  });

  it('hashes title, body and metadata: any change is a new version, key order is not', () => {
    const hash = prepareRecord('s', base).contentHash;
    expect(prepareRecord('s', { ...base, metadata: { a: 'x', z: 1 } }).contentHash).toBe(hash);
    expect(prepareRecord('s', { ...base, metadata: { a: 'y', z: 1 } }).contentHash).not.toBe(hash);
    expect(prepareRecord('s', { ...base, title: 'Other' }).contentHash).not.toBe(hash);
    expect(prepareRecord('s', { ...base, body: 'Other.' }).contentHash).not.toBe(hash);
  });
});

describe('groupByLimits', () => {
  it('closes a group at the item count or before the weight would pass its cap', () => {
    expect(groupByLimits([1, 2, 3, 4, 5], 2, Infinity, () => 0)).toEqual([[1, 2], [3, 4], [5]]);
    expect(groupByLimits([5, 5, 1, 9, 20], 10, 10, (n) => n)).toEqual([[5, 5], [1, 9], [20]]);
  });
});
