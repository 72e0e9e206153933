import { describe, expect, it } from '@jest/globals';
import { parseEvalArgs } from './eval.command.ts';

describe('parseEvalArgs', () => {
  it('defaults to every mode, top 10, the eval-rhdh knowledge base and 4 searches in flight', () => {
    expect(parseEvalArgs(['../shared/data/qa/rhdh-1.8-docs-qa-501'])).toEqual({
      dir: '../shared/data/qa/rhdh-1.8-docs-qa-501',
      modes: ['hybrid', 'vector', 'keyword'],
      topK: 10,
      knowledgeBase: 'eval-rhdh',
      concurrency: 4,
    });
  });

  it('reads every option', () => {
    expect(
      parseEvalArgs(['set', '--modes', 'vector, keyword', '--top-k', '20', '--knowledge-base', 'kb2', '--concurrency', '8', '--json', 'out.json']),
    ).toEqual({
      dir: 'set',
      modes: ['vector', 'keyword'],
      topK: 20,
      knowledgeBase: 'kb2',
      concurrency: 8,
      json: 'out.json',
    });
  });

  it.each([
    [[], /^usage: \.\/kbflow eval/],
    [['a', 'b'], /^usage: \.\/kbflow eval/],
    [['set', '--modes', 'hybrid,semantic'], /--modes takes hybrid, vector, keyword; got "semantic"/],
    [['set', '--top-k', '3'], /--top-k must be an integer from 5 to 100, got "3"/],
    [['set', '--top-k', 'ten'], /--top-k must be an integer/],
    [['set', '--concurrency', '0'], /--concurrency must be an integer from 1 to 64/],
    [['set', '--knowledge-base', ' '], /--knowledge-base must not be empty/],
    [['set', '--depth', '3'], /Unknown option '--depth'/],
  ])('refuses %j', (args, message) => {
    expect(() => parseEvalArgs(args)).toThrow(message);
  });
});
