import { describe, expect, it } from '@jest/globals';
import { parseMemoryInfo } from './admission.ts';

describe('parseMemoryInfo', () => {
  it('reads used_memory and maxmemory from INFO memory, 0 meaning no maxmemory', () => {
    const info = '# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:9999\r\nmaxmemory:2097152\r\nmaxmemory_human:2.00M\r\n';
    expect(parseMemoryInfo(info)).toEqual({ used: 1_048_576, max: 2_097_152 });
    expect(parseMemoryInfo('used_memory:5\r\nmaxmemory:0\r\n')).toEqual({ used: 5, max: 0 });
  });

  it('reads nothing from an answer without the fields', () => {
    expect(parseMemoryInfo('')).toEqual({ used: 0, max: 0 });
  });
});
