import { describe, expect, it } from '@jest/globals';
import { assessCompleteness } from './case-completeness.ts';

const full = {
  subject: 'Printer offline',
  description: 'The office printer shows offline since the firmware update.',
  resolution: '',
  status: 'open',
};

describe('assessCompleteness', () => {
  it('finds an open case with subject, description and status complete', () => {
    expect(assessCompleteness(full)).toEqual({ complete: true, missingFields: [] });
  });

  it('requires a resolution once the case is resolved or closed, whatever the case of the status', () => {
    expect(assessCompleteness({ ...full, status: 'Closed' })).toEqual({ complete: false, missingFields: ['resolution'] });
    expect(assessCompleteness({ ...full, status: ' resolved ', resolution: '   ' }).missingFields).toEqual(['resolution']);
    expect(assessCompleteness({ ...full, status: 'Closed', resolution: 'Reinstalled the driver.' }).complete).toBe(true);
  });

  it('counts a description shorter than the minimum as missing', () => {
    expect(assessCompleteness({ ...full, description: '  help me  ' }).missingFields).toEqual(['description']);
    expect(assessCompleteness({ ...full, description: 'help me' }, { minDescriptionLength: 5, resolvedStatuses: [] }).complete).toBe(true);
  });

  it('lists every missing field in a stable order', () => {
    expect(assessCompleteness({ subject: ' ', description: '', resolution: '', status: '' }).missingFields).toEqual(['subject', 'description', 'status']);
  });
});
