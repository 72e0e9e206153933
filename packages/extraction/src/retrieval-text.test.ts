import { describe, expect, it } from '@jest/globals';
import { stripLinkTargets } from './retrieval-text.ts';

describe('stripLinkTargets', () => {
  it('keeps link text and drops the target', () => {
    expect(stripLinkTargets('See [the os module](http://127.0.0.1:8765/library/os.html#os.open) for details.')).toBe('See the os module for details.');
  });

  it('keeps code spans inside link text', () => {
    expect(stripLinkTargets('call [`open()`](http://x/library/functions.html#open "open") first')).toBe('call `open()` first');
  });

  it('handles targets with parentheses and images', () => {
    expect(stripLinkTargets('[Foo](https://en.wikipedia.org/wiki/Foo_(bar)) and ![a chart](https://x/c.png)')).toBe('Foo and a chart');
  });

  it('drops bare autolinks and leaves other text alone', () => {
    expect(stripLinkTargets('Visit <https://python.org> or read [x] and (y).')).toBe('Visit  or read [x] and (y).');
  });
});
