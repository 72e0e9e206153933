import { describe, expect, it } from '@jest/globals';
import { learnBoilerplate, templateSignature } from './case-boilerplate.ts';

const REACT_TEMPLATE = (version: string, body: string) =>
  [
    '<!-- Please provide a clear and concise description of what the bug is. -->',
    '',
    `React version: ${version}`,
    '',
    '## Steps To Reproduce',
    '',
    body,
    '',
    '### How often does this bug happen?',
    '',
    'Every time',
    '',
    '```text',
    'TypeError: cannot read properties of undefined at render',
    '```',
  ].join('\n');

describe('templateSignature', () => {
  it('keys headings, labels, table rows and short answers, but not content or error lines', () => {
    expect(templateSignature('### Steps to reproduce')).toBe('t:h:steps to reproduce');
    expect(templateSignature('React version: 18.2.0')).toBe('t:l:react version');
    expect(templateSignature('- OpenCV => 4.8.0')).toBe('t:l:opencv');
    expect(templateSignature('|CPUs|Intel(R) Core(TM) i7 (8 x 2400)|')).toBe('t:r:cpus');
    expect(templateSignature('- [x] I searched existing issues')).toBe('t:c:i searched existing issues');
    expect(templateSignature('_No response_')).toBe('t:p:no response');
    expect(templateSignature('Every time')).toBe('s:every time');
    expect(templateSignature('TypeError: Cannot read properties of undefined (reading "split")')).toBeUndefined();
    expect(templateSignature('Cannot add node "1" because a node with that id is already in the Store.')).toBeUndefined();
  });
});

describe('learnBoilerplate', () => {
  it('removes template lines shared by many cases and HTML comments, and keeps each case its own text', () => {
    const descriptions = Array.from({ length: 20 }, (_, i) =>
      REACT_TEMPLATE(`18.${i % 3}.0`, `Clicking the button number ${i} throws an error in the console.`),
    );
    const strip = learnBoilerplate(descriptions, { minCount: 5 });
    const cleaned = strip(descriptions[7]!);
    expect(cleaned).toBe('Clicking the button number 7 throws an error in the console.\n\nTypeError: cannot read properties of undefined at render');
  });

  it('keeps a recurring error line that only a pattern-sized minority of the cases share', () => {
    const error = 'Cannot add node "1" because a node with that id is already in the Store.';
    const descriptions = [
      ...Array.from({ length: 27 }, (_, i) => `Opened the profiler ${i}\n${error}`),
      ...Array.from({ length: 973 }, (_, i) => `Unrelated problem number ${i} with its own words`),
    ];
    const strip = learnBoilerplate(descriptions, { minCount: 5 });
    expect(strip(descriptions[3]!)).toBe(`Opened the profiler 3\n${error}`);
  });

  it('removes template prose only when it is in at least 5% of the cases and 50 of them', () => {
    const prose = 'See details at https://github.com/opencv/opencv/wiki/How_to_contribute#making-a-good-pull-request';
    const make = (withProse: number, total: number) =>
      Array.from({ length: total }, (_, i) => (i < withProse ? `Fix number ${i} in the decoder\n${prose}` : `Other change ${i} to the build`));
    expect(learnBoilerplate(make(60, 1000), { minCount: 5 })(`Fix in the decoder\n${prose}`)).toBe('Fix in the decoder');
    expect(learnBoilerplate(make(40, 1000), { minCount: 5 })(`Fix in the decoder\n${prose}`)).toBe(`Fix in the decoder\n${prose}`);
  });

  it('leaves template lines that fewer than minCount cases share', () => {
    const descriptions = ['### Environment\nLinux box one', '### Environment\nLinux box two', 'Nothing else here at all'];
    expect(learnBoilerplate(descriptions, { minCount: 5 })(descriptions[0]!)).toBe('### Environment\nLinux box one');
  });
});

// A case description is up to 1,000,000 characters (CASE_LIMITS.textMax).
// Each line below made an earlier whole-line pattern backtrack quadratically
// or worse (kbflow issue 14, item 2); read at the largest size, each gets its
// signature (finishing at all is what the earlier patterns could not do).
describe('template lines of the largest allowed size', () => {
  const MAX = 1_000_000;
  const run = (c: string, n = MAX - 10) => c.repeat(n);
  it.each([
    ['a heading of spaces before a line separator', `### a${run(' ')}\u2028x`, 't:h:a x'],
    ['a bold label of many asterisks', `**a${run('*')}`, 't:b:a'],
    ['a table row of spaces before a line separator', `|a${run(' ')}\u2028|`, undefined],
    ['a checkbox of spaces before a line separator', `- [x] a${run(' ')}\u2028`, 't:c:a'],
    ['a label of spaces before a line separator', `Version:${run(' ')}\u2028 1`, 't:l:version'],
    ['an HTML line of many <', `<a${run('<')}>`, 't:x:'],
  ])('%s', (_label, line, signature) => {
    // Compared by prefix: a failure must not print a million characters.
    const got = templateSignature(line)?.slice(0, 40);
    if (signature === undefined) expect(got === undefined || got.startsWith('t:r:')).toBe(true);
    else expect(got?.startsWith(signature)).toBe(true);
  });

  it('learns and strips boilerplate from descriptions of the largest size', () => {
    const big = [`### Steps${run(' ', 200_000)}\u2028`, `**x${run('*', 200_000)}`, `Label:${run(' ', 200_000)}\u2028 v`, `| a${run(' ', 200_000)}|`].join('\n');
    expect(big.length).toBeLessThanOrEqual(MAX);
    const strip = learnBoilerplate([big, big, big], { minCount: 2 });
    expect(strip(`${big}\nA line of its own content that no other case has.`)).toBe('A line of its own content that no other case has.');
  });
});
