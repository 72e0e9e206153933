import { describe, expect, it } from '@jest/globals';
import { BAND_WIDTH, fairPriority, priorityClass } from './fair-scheduling.ts';
import { Priority } from './priorities.ts';

describe('fair priorities', () => {
  it('keep every class below the next one, at any place in its band, and within BullMQ limit of 2^21 - 1', () => {
    const classes = [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW, Priority.BULK];
    for (let i = 0; i + 1 < classes.length; i++) expect(fairPriority(classes[i]!, BAND_WIDTH - 1)).toBeLessThan(fairPriority(classes[i + 1]!, 0));
    expect(fairPriority(Priority.BULK, Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(2 ** 21 - 1);
    expect(fairPriority(Priority.CRITICAL, 0)).toBeGreaterThan(Priority.BULK);
  });

  it('clamp a place past the band to its last priority', () => {
    expect(fairPriority(Priority.NORMAL, BAND_WIDTH + 5)).toBe(fairPriority(Priority.NORMAL, BAND_WIDTH - 1));
    expect(fairPriority(Priority.NORMAL, -3)).toBe(fairPriority(Priority.NORMAL, 0));
  });

  it('tell the class back from a fair priority or a plain one', () => {
    expect(priorityClass(fairPriority(Priority.LOW, 12_345))).toBe(Priority.LOW);
    expect(priorityClass(fairPriority(Priority.CRITICAL, 0))).toBe(Priority.CRITICAL);
    expect(priorityClass(fairPriority(Priority.BULK, BAND_WIDTH - 1))).toBe(Priority.BULK);
    expect(priorityClass(Priority.HIGH)).toBe(Priority.HIGH);
    expect(priorityClass(3)).toBeUndefined();
    expect(priorityClass(undefined)).toBeUndefined();
  });
});
