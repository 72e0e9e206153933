import { describe, expect, it } from '@jest/globals';
import { groupCitations, snippetOf, type RetrievedChunk } from './citations.ts';
import { extractiveAnswer, terms } from './extractive-answer.ts';

const chunk = (url: string, text: string, score: number, heading = 'H'): RetrievedChunk => ({
  chunkId: `${url}-${score}`,
  documentId: url,
  url,
  title: url,
  heading,
  text: `${heading}\n\n${text}`,
  hash: `${url}-${text}`,
  contentType: 'page',
  source: 'docs',
  updatedAt: new Date(0),
  score,
});

describe('extractiveAnswer', () => {
  it('picks the sentences sharing the most words with the question and marks their source', () => {
    const chunks = [
      chunk('u1', 'Bananas are yellow and grow in bunches on tall plants. Lists can be sorted in place with the sort method.', 0.5),
      chunk('u2', 'A list comprehension builds a new list from an iterable in one expression. It is often shorter than a loop.', 0.4),
    ];
    const { sourceIndex } = groupCitations(chunks, 5);
    const answer = extractiveAnswer('How do I build a list with a list comprehension?', chunks, sourceIndex, 1);
    expect(answer).toBe('A list comprehension builds a new list from an iterable in one expression. [2]');
  });

  it('removes Markdown link targets and code fences from sentences', () => {
    const chunks = [chunk('u1', 'Call [`open()`](http://x/functions.html#open) to read a file from disk today.\n\n```python\nopen("x")\n```', 1)];
    const { sourceIndex } = groupCitations(chunks, 5);
    expect(extractiveAnswer('read a file', chunks, sourceIndex)).toBe('Call open() to read a file from disk today. [1]');
  });

  it('drops stopwords from question terms', () => {
    expect(terms('How do I write a List Comprehension?')).toEqual(['write', 'list', 'comprehension']);
  });
});

describe('groupCitations', () => {
  it('gives one citation per page, in the ranked order given, up to the limit', () => {
    const { citations, sourceIndex } = groupCitations([chunk('a', 'z', 0.95), chunk('b', 'y', 0.9), chunk('a', 'x', 0.2), chunk('c', 'w', 0.1)], 2);
    expect(citations.map((c) => [c.url, c.score])).toEqual([
      ['a', 0.95],
      ['b', 0.9],
    ]);
    expect(citations[0]!.snippet).toBe('z');
    expect(sourceIndex.get('c')).toBeUndefined();
  });

  it('cuts long snippets at a word boundary', () => {
    const snippet = snippetOf(`${'word '.repeat(100)}end`, 50);
    expect(snippet.length).toBeLessThanOrEqual(51);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet).not.toMatch(/wor…$/);
  });
});

describe('extractiveAnswer on passages of unclosed link syntax', () => {
  // `[` and `![` with no closing bracket made the earlier link pattern scan
  // to the end from every bracket (quadratic; kbflow issue 14, item 2).
  it('answers from a passage of a million brackets', () => {
    const chunks = [chunk('u1', `${'['.repeat(500_000)}\n\nCall open() to read a file from disk today.\n\n${'!['.repeat(250_000)}`, 0.5)];
    const { sourceIndex } = groupCitations(chunks, 5);
    expect(extractiveAnswer('read a file', chunks, sourceIndex)).toContain('Call open() to read a file from disk today.');
  });
});
