import { describe, expect, it } from '@jest/globals';
import { clip, writeExtractiveArticle, type ArticleSourceCase } from './extractive-article.ts';

const devtools = (n: number, node: string, resolution = ''): ArticleSourceCase => ({
  caseId: `c${n}`,
  externalId: `react#${n}`,
  subject: `[DevTools Bug] Cannot add node "${node}" because a node with that id is already in the Store.`,
  description: [
    n === 1 ? 'The Components tab stops updating after a hot reload of the page.' : `Opened the profiler on page ${n} of the app.`,
    '',
    `Cannot add node "${node}" because a node with that id is already in the Store.`,
    '',
    '```text',
    'at chrome-extension://fmkadmapgofadopljbjfkapdkoienihi/build/main.js:28171:41',
    '```',
    n % 2 === 0 ? 'Uncaught Error: Could not find node with id in the Store after reload.' : '',
    'https://api.github.com/search/issues?q=Cannot add node because a node with that id is already in the Store.',
  ].join('\n'),
  resolution,
  similarity: 0.9 - n / 100,
});

describe('writeExtractiveArticle', () => {
  it('takes the title from the shared subject and the summary from the most representative case', () => {
    const article = writeExtractiveArticle([devtools(1, '1'), devtools(2, '1'), devtools(3, '5370'), devtools(4, '1'), devtools(5, '88')]);
    expect(article.title).toBe('[DevTools Bug] Cannot add node "1" because a node with that id is already in the Store');
    expect(article.summary).toContain('The Components tab stops updating after a hot reload of the page.');
  });

  it('lists distinct symptoms, the most reported first, without tags, stack frames, URLs, info logs or near-duplicates', () => {
    const cases = [devtools(1, '1'), devtools(2, '1'), devtools(3, '5370'), devtools(4, '1'), devtools(5, '88')].map((c) => ({
      ...c,
      description: `${c.description}\n2023-08-14 21:39:36.565382: W tensorflow/utils/py_utils.cc:38] TF-TRT Warning: Cannot dlopen some TensorRT libraries.`,
    }));
    const article = writeExtractiveArticle(cases);
    expect(article.symptoms).toEqual([
      'Cannot add node "1" because a node with that id is already in the Store.',
      'Uncaught Error: Could not find node with id in the Store after reload.',
    ]);
  });

  it('says nothing about a resolution when no case records one', () => {
    const article = writeExtractiveArticle([devtools(1, '1'), devtools(2, '2'), devtools(3, '3')]);
    expect(article.resolutionSteps).toEqual([]);
  });

  it('takes resolution steps from the cases, the most common first, merging repeats', () => {
    const steps = '1. Close every DevTools window.\n2. Reload the extension from chrome://extensions.';
    const article = writeExtractiveArticle([
      devtools(1, '1', steps),
      devtools(2, '1', 'Reload the extension from chrome://extensions. Then it works.'),
      devtools(3, '1', steps),
      devtools(4, '1'),
    ]);
    expect(article.resolutionSteps).toEqual(['Reload the extension from chrome://extensions.', 'Close every DevTools window.', 'Then it works.']);
  });

  it('caps symptoms at eight', () => {
    const things = ['printer', 'scanner', 'router', 'mailbox', 'calendar', 'invoice', 'badge', 'monitor', 'webcam', 'headset', 'docking', 'keyboard'];
    const cases = things.map((thing, i) => ({ ...devtools(i + 1, '1'), subject: `Unable to connect the ${thing}`, description: '' }));
    expect(writeExtractiveArticle(cases).symptoms).toHaveLength(8);
  });

  it('refuses an empty pattern', () => {
    expect(() => writeExtractiveArticle([])).toThrow(RangeError);
  });
});

describe('clip', () => {
  it('cuts at a word boundary and marks the cut', () => {
    expect(clip('one two three four', 12)).toBe('one two…');
    expect(clip('  short   text ', 50)).toBe('short text');
  });
});

describe('writeExtractiveArticle on descriptions of the largest allowed size', () => {
  // Tokens and subjects that made earlier patterns quadratic (a long token
  // of punctuation, a subject ending in a long run of separators, a line of
  // many `a.b:1`-looking fragments or search operators); 1,000,000 characters
  // is the cap of a case's description (CASE_LIMITS.textMax).
  it('writes the article', () => {
    const MAX = 1_000_000;
    const worst = (n: number): ArticleSourceCase => ({
      caseId: `w${n}`,
      externalId: `w#${n}`,
      subject: `Sync fails on save${' .'.repeat(2000)}x`,
      description: [
        'The sync fails every time a document is saved from the editor window.',
        `(${'"'.repeat(200_000)}word`,
        'a.b'.repeat(60_000),
        'in:x '.repeat(40_000),
        `${' '.repeat(150_000)}.`,
      ]
        .join('\n')
        .slice(0, MAX),
      resolution: '',
      similarity: 0.9,
    });
    const article = writeExtractiveArticle([worst(1), worst(2), worst(3)]);
    expect(article.title.startsWith('Sync fails on save')).toBe(true);
    expect(article.summary).toContain('The sync fails every time a document is saved');
  });
});
