import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { chunkMarkdown } from '@kbflow/extraction';
import { loadQuestionSet, type QuestionSet } from './question-set.ts';
import { isRelevant, locatePassage, locateQuestions, normalizedWords, overlapsPassage, shingles, type LocatedQuestion } from './relevance.ts';

const RHDH = path.resolve(import.meta.dirname, '../../../../shared/data/qa/rhdh-1.8-docs-qa-501');

describe('normalization and shingles', () => {
  it('makes flattened passages and Markdown the same word sequence', () => {
    expect(normalizedWords('# Installing Ansible plug-ins\n\n* **Plug ins** for `RHDH` — ÉTÉ')).toEqual([
      'installing',
      'ansible',
      'plug',
      'ins',
      'plug',
      'ins',
      'for',
      'rhdh',
      'été',
    ]);
    expect(shingles('# A b\n\nc, d: e f')).toEqual(new Set(['a b c d e', 'b c d e f']));
  });

  it('makes a text shorter than five words one shingle, and empty text none', () => {
    expect(shingles('# Integrating GitHub #')).toEqual(new Set(['integrating github']));
    expect(shingles('## ---')).toEqual(new Set());
  });
});

describe('relevance, on synthetic guides', () => {
  const guides = new Map([
    ['alpha', shingles('# Alpha\n\nThe quick brown fox jumps over the lazy dog near the old river bank today.')],
    ['beta', shingles('# Beta\n\nSomething else entirely about installing operators on a cluster with care.')],
  ]);
  const passage = locatePassage('# Alpha The quick brown fox jumps over the lazy dog near the old river', guides);

  it('finds the guide that holds the passage, and only it', () => {
    expect(passage.sourceGuides).toEqual(['alpha']);
  });

  it('a chunk that holds the passage, or lies inside it, is relevant; a chunk of other text is not', () => {
    expect(isRelevant([passage], { guide: 'alpha', text: 'Alpha\n\nThe quick brown fox jumps over the lazy dog near the old river bank today.' })).toBe(true);
    expect(isRelevant([passage], { guide: 'alpha', text: 'the lazy dog near the old river' })).toBe(true);
    expect(isRelevant([passage], { guide: 'alpha', text: 'Alpha\n\nA slow green turtle walks under the busy bridge.' })).toBe(false);
  });

  it('the same text in a guide that does not hold the passage is not relevant', () => {
    expect(isRelevant([passage], { guide: 'beta', text: 'The quick brown fox jumps over the lazy dog near the old river' })).toBe(false);
    expect(isRelevant([passage], { guide: undefined, text: 'The quick brown fox jumps over the lazy dog near the old river' })).toBe(false);
  });

  it('needs half of the smaller side: a chunk with a third of its text from the passage is not relevant', () => {
    // 9 words: 5 shingles, 1 of them shared with the passage.
    expect(overlapsPassage(passage.shingles, 'brown fox jumps over the pelican swims far away')).toBe(false);
  });
});

describe('relevance, on the shipped RHDH 1.8 set', () => {
  let set: QuestionSet;
  let located: LocatedQuestion[];
  beforeAll(async () => {
    set = await loadQuestionSet(RHDH);
    ({ located } = locateQuestions(set.questions, set.guides));
  }, 60_000);

  it('every question has an identifiable source guide; 99 share their passage with several guides', () => {
    expect(located).toHaveLength(501);
    expect(located.filter((q) => q.passages[0]!.sourceGuides.length > 1)).toHaveLength(99);
    const ansible = located.find((q) => q.id === '07144e84-f3d8-4568-8bf3-de0c4ccc420e')!;
    expect(ansible.passages[0]!.sourceGuides).toEqual(['plugins-rhdh-configure', 'plugins-rhdh-using']);
    expect(ansible.passages[0]!.coverage['plugins-rhdh-configure']).toBe(1);
  });

  it('reports a question whose passage no guide holds as excluded', () => {
    const { located: kept, excluded } = locateQuestions(
      [
        ...set.questions.slice(0, 2),
        { id: 'made-up', question: 'Where is it?', category: 'x', contexts: ['A passage about sailing boats that appears in no guide of this corpus at all.'] },
      ],
      set.guides,
    );
    expect(kept).toHaveLength(2);
    expect(excluded).toEqual([{ id: 'made-up', question: 'Where is it?', category: 'x', reason: "no guide holds 50% of its passage's word 5-grams" }]);
  });

  it("with the pipeline's chunker, every question has a relevant chunk, and few chunks are relevant to any one question", () => {
    const chunks = set.guides.flatMap((g) => chunkMarkdown(g.body).map((c) => ({ guide: g.id, text: c.text })));
    const relevantPerQuestion = located.map((q) => chunks.filter((c) => isRelevant(q.passages, c)).length).sort((a, b) => a - b);
    expect(relevantPerQuestion[0]).toBeGreaterThanOrEqual(1);
    // The median question's passage spans a handful of chunks out of ~1,000.
    const median = relevantPerQuestion[relevantPerQuestion.length >> 1]!;
    expect(median).toBeLessThan(chunks.length / 50);

    // The Ansible question: the chunk holding its passage is relevant, the
    // chunk on audit logs of the same guide is not.
    const ansible = located.find((q) => q.id === '07144e84-f3d8-4568-8bf3-de0c4ccc420e')!;
    const relevant = chunks.filter((c) => isRelevant(ansible.passages, c));
    expect(relevant.some((c) => c.guide === 'plugins-rhdh-configure' && c.text.includes('Ansible plug-ins for Red Hat Developer Hub deliver'))).toBe(true);
    const auditChunk = chunks.find((c) => c.guide === 'plugins-rhdh-configure' && /audit log/i.test(c.text) && !/ansible/i.test(c.text))!;
    expect(isRelevant(ansible.passages, auditChunk)).toBe(false);
  }, 60_000);
});
