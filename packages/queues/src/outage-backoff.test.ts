import { describe, expect, it } from '@jest/globals';
import { OutageBackoff } from './outage-backoff.ts';

describe('OutageBackoff', () => {
  it('waits the outage so far, from 2 s up to 30 s, and starts over after a success', () => {
    let now = 1_000_000;
    const backoff = new OutageBackoff({ now: () => now });
    const waits: number[] = [];
    for (const step of [0, 0, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]) {
      now += step;
      waits.push(backoff.next());
    }
    expect(waits).toEqual([2_000, 2_000, 2_000, 6_000, 14_000, 30_000, 30_000, 30_000]);
    expect(backoff.active).toBe(true);
    backoff.reset();
    expect(backoff.active).toBe(false);
    now += 60_000;
    expect(backoff.next()).toBe(2_000);
  });

  it('many jobs failing at once do not lengthen the wait', () => {
    let now = 0;
    const backoff = new OutageBackoff({ now: () => now });
    const burst = Array.from({ length: 50 }, () => backoff.next());
    expect(new Set(burst)).toEqual(new Set([2_000]));
    now = 5_000;
    expect(backoff.next()).toBe(5_000);
  });
});
