import { describe, expect, it } from '@jest/globals';
import { parseSourceSchedule } from './source-schedule.ts';

const MINUTE = 60_000;

describe('source schedules', () => {
  it('reads an interval as milliseconds', () => {
    expect(parseSourceSchedule({ every: '6h' }, MINUTE)).toEqual({ ok: true, repeat: { every: 6 * 3600_000 } });
    expect(parseSourceSchedule({ every: '90m' }, MINUTE)).toEqual({ ok: true, repeat: { every: 90 * MINUTE } });
  });

  it('refuses an interval below the minimum, or that is not a duration', () => {
    expect(parseSourceSchedule({ every: '30s' }, MINUTE)).toEqual({ ok: false, field: 'every', reason: 'must be at least 1 minute' });
    expect(parseSourceSchedule({ every: '2s' }, 1000)).toEqual({ ok: true, repeat: { every: 2000 } });
    for (const every of ['', 'often', '-5m', '0']) expect(parseSourceSchedule({ every }, MINUTE)).toMatchObject({ ok: false, field: 'every' });
  });

  it('passes a cron pattern and its time zone on to the scheduler', () => {
    expect(parseSourceSchedule({ cron: '0 */6 * * *', tz: 'Europe/Paris' }, MINUTE)).toEqual({
      ok: true,
      repeat: { pattern: '0 */6 * * *', tz: 'Europe/Paris' },
    });
    expect(parseSourceSchedule({ cron: '  30 2   * * 1 ' }, MINUTE)).toEqual({ ok: true, repeat: { pattern: '30 2 * * 1' } });
  });

  it('accepts a 6-field pattern with one second, and refuses one firing more than once a minute', () => {
    expect(parseSourceSchedule({ cron: '15 * * * * *' }, MINUTE)).toEqual({ ok: true, repeat: { pattern: '15 * * * * *' } });
    for (const cron of ['* * * * * *', '*/30 * * * * *', '0,1 0 0 1 1 *', '0-5 * * * * *']) {
      expect(parseSourceSchedule({ cron }, MINUTE)).toMatchObject({ ok: false, field: 'cron', reason: expect.stringContaining('more than once a minute') });
    }
  });

  it('names the field of a bad pattern or zone', () => {
    expect(parseSourceSchedule({ cron: '61 * * * *' }, MINUTE)).toMatchObject({ ok: false, field: 'cron' });
    expect(parseSourceSchedule({ cron: '* * *' }, MINUTE)).toMatchObject({ ok: false, field: 'cron', reason: 'a cron pattern has 5 or 6 fields, got 3' });
    expect(parseSourceSchedule({ cron: '0 * * * *', tz: 'Mars/Olympus' }, MINUTE)).toMatchObject({ ok: false, field: 'tz' });
  });
});
