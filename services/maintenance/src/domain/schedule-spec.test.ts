import { describe, expect, it } from '@jest/globals';
import { parseScheduleSpec, toScheduleSpec } from './schedule-spec.ts';

describe('parseScheduleSpec', () => {
  it('reads milliseconds and short durations as intervals', () => {
    expect(toScheduleSpec('1800000')).toEqual({ every: 1_800_000 });
    expect(toScheduleSpec('30m')).toEqual({ every: 1_800_000 });
    expect(toScheduleSpec('2h')).toEqual({ every: 7_200_000 });
    expect(toScheduleSpec('1.5s')).toEqual({ every: 1500 });
    expect(toScheduleSpec(' 10 minutes ')).toEqual({ every: 600_000 });
  });

  it('reads 5- and 6-field cron patterns, normalizing the spacing', () => {
    expect(toScheduleSpec('*/30 * * * *')).toEqual({ pattern: '*/30 * * * *' });
    expect(toScheduleSpec('0  0 */2 * * *')).toEqual({ pattern: '0 0 */2 * * *' });
  });

  it('rejects what is neither, saying why', () => {
    const reasons = ['soon', '30x', '', '500', '-5m', '1.0001s', '61 * * * *', 'bogus * * * *', '0 0 0 * * * *'].map((v) => {
      const parsed = parseScheduleSpec(v);
      return parsed.ok ? `accepted ${v}` : parsed.reason;
    });
    expect(reasons).toEqual([
      expect.stringContaining('must be an interval'),
      expect.stringContaining('must be an interval'),
      expect.stringContaining('must be an interval'),
      'an interval must be at least 1000 ms',
      'an interval must be at least 1000 ms',
      'an interval must be a whole number of milliseconds',
      expect.stringContaining('invalid cron pattern'),
      expect.stringContaining('invalid cron pattern'),
      'a cron pattern has 5 or 6 fields, got 7',
    ]);
    expect(() => toScheduleSpec('soon')).toThrow('invalid schedule "soon"');
  });
});
