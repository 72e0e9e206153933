import { describe, expect, it } from '@jest/globals';
import { effectiveLimits, TIER_LIMITS } from './tenant-limits.ts';

describe('effectiveLimits', () => {
  it('without overrides is the tier', () => {
    expect(effectiveLimits('professional', null)).toEqual(TIER_LIMITS.professional);
  });

  it('an override wins over the tier, zero included, and the others stay the tier', () => {
    expect(effectiveLimits('starter', { maxApiCallsPerHour: 10, maxVectorOperationsPerMinute: 0 })).toEqual({
      ...TIER_LIMITS.starter,
      maxApiCallsPerHour: 10,
      maxVectorOperationsPerMinute: 0,
    });
  });

  it('ignores stored values that are not non-negative integers', () => {
    expect(effectiveLimits('enterprise', { maxConcurrentProcessing: -1, maxDocumentsPerKnowledgeBase: 1.5 })).toEqual(TIER_LIMITS.enterprise);
  });

  it('tiers grow from starter to enterprise', () => {
    for (const key of Object.keys(TIER_LIMITS.starter) as (keyof typeof TIER_LIMITS.starter)[]) {
      expect(TIER_LIMITS.starter[key]).toBeLessThan(TIER_LIMITS.professional[key]);
      expect(TIER_LIMITS.professional[key]).toBeLessThan(TIER_LIMITS.enterprise[key]);
    }
  });
});
