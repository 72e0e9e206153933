import { describe, expect, it } from '@jest/globals';
import { columnKey, resolveCaseColumns, toCaseRow } from './case-rows.ts';

const SUPPORT_HEADER = [
  'Ticket ID',
  'Customer Name',
  'Product Purchased',
  'Ticket Type',
  'Ticket Subject',
  'Ticket Description',
  'Ticket Status',
  'Resolution',
  'Ticket Priority',
  'Ticket Channel',
];

describe('resolveCaseColumns', () => {
  it('finds the support-ticket columns through their aliases', () => {
    expect(resolveCaseColumns(SUPPORT_HEADER, { columns: {} })).toEqual({
      externalId: 'Ticket ID',
      subject: 'Ticket Subject',
      description: 'Ticket Description',
      resolution: 'Resolution',
      status: 'Ticket Status',
      priority: 'Ticket Priority',
      product: 'Product Purchased',
      channel: 'Ticket Channel',
    });
  });

  it('maps the GitHub issue columns: title, body and repo as product', () => {
    expect(resolveCaseColumns(['repo', 'created_at', 'label', 'title', 'body'], { columns: {} })).toEqual({
      subject: 'title',
      description: 'body',
      product: 'repo',
    });
  });

  it('prefers a named column, compared ignoring case and punctuation', () => {
    expect(resolveCaseColumns(['Number', 'Ticket Subject', 'Headline'], { columns: { externalId: 'number', subject: 'HEADLINE' } })).toMatchObject({
      externalId: 'Number',
      subject: 'Headline',
    });
    expect(columnKey('ticket_ID')).toBe(columnKey('Ticket ID'));
  });
});

describe('toCaseRow', () => {
  it('maps a CSV row: case fields from their columns, every other column into metadata', () => {
    const fields = Object.fromEntries(
      SUPPORT_HEADER.map((h, i) => [
        h,
        ['7', 'Ann', 'Dell XPS', 'Technical issue', 'Network problem', 'Wifi drops.', 'Closed', 'Reset router', 'High', 'Email'][i],
      ]),
    );
    expect(toCaseRow(3, fields, { columns: {} })).toEqual({
      row: 3,
      externalId: '7',
      subject: 'Network problem',
      description: 'Wifi drops.',
      resolution: 'Reset router',
      status: 'Closed',
      priority: 'High',
      product: 'Dell XPS',
      channel: 'Email',
      metadata: { 'Customer Name': 'Ann', 'Ticket Type': 'Technical issue' },
    });
  });

  it('gives rows without an id column prefix + row number, and defaults the missing fields', () => {
    expect(toCaseRow(12, { title: 'Crash on start', label: 'bug' }, { columns: {}, idPrefix: 'gh-' })).toMatchObject({
      externalId: 'gh-12',
      subject: 'Crash on start',
      description: '',
      status: 'open',
      metadata: { label: 'bug' },
    });
  });

  it('takes JSON numbers as text and merges an explicit metadata object', () => {
    expect(toCaseRow(1, { id: 42, subject: 'Refund', priority: 2, team: 'billing', metadata: { vip: true } }, { columns: {} })).toMatchObject({
      externalId: '42',
      priority: '2',
      metadata: { team: 'billing', vip: true },
    });
  });

  it('removes NUL characters and replaces lone surrogates, which cannot be stored, instead of refusing the case', () => {
    expect(toCaseRow(2, { id: '9', subject: 'Log\u0000 attached \ud800', body: 'a\u0000b', 'x\u0000y': 'z\u0000' }, { columns: {} })).toMatchObject({
      subject: 'Log attached \ufffd',
      description: 'ab',
      metadata: { xy: 'z' },
    });
  });

  it.each([
    ['no id column', { subject: 'No id here' }, 'externalId', /missing: the row has no id column \(ticket id/],
    ['no subject column', { id: '1' }, 'subject', /missing: the row has no subject column/],
    ['a blank subject', { 'Ticket ID': '1', 'Ticket Subject': '   ' }, 'subject', /must not be empty \(column "Ticket Subject"\)/],
    ['an id too long', { id: 'x'.repeat(300), subject: 's' }, 'externalId', /at most 256/],
    ['a nested metadata value', { id: '1', subject: 's', extra: { nested: true } }, 'metadata.extra', /metadata is flat/],
    ['metadata that is not an object', { id: '1', subject: 's', metadata: [1] }, 'metadata', /must be an object/],
    ['a status too long', { id: '1', subject: 's', status: 'x'.repeat(201) }, 'status', /at most 200/],
  ])('reports a row with %s as invalid, naming the field', (_label, fields, field, reason) => {
    const result = toCaseRow(5, fields, { columns: {} });
    expect(result).toMatchObject({ row: 5, field });
    expect((result as { reason: string }).reason).toMatch(reason);
  });
});
