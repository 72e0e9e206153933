import { describe, expect, it } from '@jest/globals';
import { isLanceCommitConflict, retryWithJitter } from './retry.ts';

// The start of the message observed with ten processes merge-inserting overlapping ids into one directory.
const OBSERVED_CONFLICT = 'Failed to execute merge insert: GenericFailure, lance error: Too many concurrent writers. Attempted 10 retries., /usr/lo';

describe('retryWithJitter', () => {
  it('recognizes the commit conflicts Lance reports and nothing else', () => {
    expect(isLanceCommitConflict(new Error(OBSERVED_CONFLICT))).toBe(true);
    expect(isLanceCommitConflict(new Error('lance error: Retryable commit conflict for version 7: ...'))).toBe(true);
    expect(isLanceCommitConflict(new Error('Invalid input, invalid SQL predicate'))).toBe(false);
  });

  it('retries a conflicting write with jittered, growing delays until it succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retryWithJitter(
      async () => {
        calls++;
        if (calls < 4) throw new Error(OBSERVED_CONFLICT);
        return 'ok';
      },
      { attempts: 6, baseDelayMs: 100, maxDelayMs: 250, isRetryable: isLanceCommitConflict, random: () => 0.5, sleep: async (ms) => void delays.push(ms) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([50, 100, 125]);
  });

  it('gives up after the last attempt and rethrows the conflict', async () => {
    let calls = 0;
    const run = retryWithJitter(
      async () => {
        calls++;
        throw new Error(OBSERVED_CONFLICT);
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, isRetryable: isLanceCommitConflict, sleep: async () => {} },
    );
    await expect(run).rejects.toThrow(/Too many concurrent writers/);
    expect(calls).toBe(3);
  });

  it('does not retry errors that another try cannot fix', async () => {
    let calls = 0;
    const run = retryWithJitter(
      async () => {
        calls++;
        throw new Error('Schema Error: Provided schema does not match existing table schema');
      },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, isRetryable: isLanceCommitConflict, sleep: async () => {} },
    );
    await expect(run).rejects.toThrow(/Schema Error/);
    expect(calls).toBe(1);
  });
});
