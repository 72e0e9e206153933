import { describe, expect, it } from '@jest/globals';
import { buildCaseDocument } from './case-document.ts';

describe('buildCaseDocument', () => {
  const c = {
    externalId: 'T-1',
    subject: 'Printer\noffline',
    description: 'It shows offline since the update, on every computer.',
    resolution: 'Reinstalled the driver.',
    status: 'closed',
    priority: 'high',
    product: 'LaserJet 400',
  };

  it('writes the subject as title, the product, the description and the resolution under its heading', () => {
    const doc = buildCaseDocument(c, 'hardware');
    expect(doc.url).toBe('case://T-1');
    expect(doc.title).toBe('Printer offline');
    expect(doc.markdown).toBe(
      '# Printer offline\n\nProduct: LaserJet 400\n\nIt shows offline since the update, on every computer.\n\n## Resolution\n\nReinstalled the driver.',
    );
    expect(doc.metadata).toEqual({ status: 'closed', priority: 'high', category: 'hardware', product: 'LaserJet 400' });
    expect(doc.chunks.map((ch) => ch.heading)).toEqual(['Printer offline', 'Printer offline > Resolution']);
  });

  it('keeps the content hash when only status or category change, and changes it with the text', () => {
    const base = buildCaseDocument(c, 'hardware').contentHash;
    expect(buildCaseDocument({ ...c, status: 'open', priority: 'low' }, 'software').contentHash).toBe(base);
    expect(buildCaseDocument({ ...c, resolution: 'Replaced the cable.' }, 'hardware').contentHash).not.toBe(base);
  });

  it('titles a case without a subject by its external id', () => {
    expect(buildCaseDocument({ ...c, subject: '' }, 'other').title).toBe('T-1');
  });
});
