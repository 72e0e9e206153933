import { describe, expect, it } from '@jest/globals';
import { maximalMarginalRelevance } from './mmr.ts';

// Three passages about virtual environments that say nearly the same thing,
// and two about other topics, slightly less relevant.
const candidates = [
  { id: 'venv-1', score: 0.9, text: 'Create a virtual environment with python -m venv and activate it' },
  { id: 'venv-2', score: 0.88, text: 'Activate the virtual environment created with python -m venv' },
  { id: 'venv-3', score: 0.87, text: 'python -m venv creates a virtual environment; activate it first' },
  { id: 'pip', score: 0.8, text: 'Install packages with pip install inside your project' },
  { id: 'files', score: 0.5, text: 'Read files with open() and close them with a with statement' },
];
const ids = (list: { id: string }[]) => list.map((c) => c.id);

describe('maximalMarginalRelevance', () => {
  it('with diversity 0 keeps the relevance order', () => {
    expect(ids(maximalMarginalRelevance(candidates, 3, 0))).toEqual(['venv-1', 'venv-2', 'venv-3']);
  });

  it('with some diversity moves a different topic above near-repeats of the first pick', () => {
    const picked = ids(maximalMarginalRelevance(candidates, 3, 0.5));
    expect(picked[0]).toBe('venv-1');
    expect(picked[1]).toBe('pip');
    expect(picked).toHaveLength(3);
  });

  it('with full diversity still starts from the most relevant, then takes the least similar', () => {
    const picked = ids(maximalMarginalRelevance(candidates, 5, 1));
    expect(picked[0]).toBe('venv-1');
    expect(new Set(picked.slice(1, 3))).toEqual(new Set(['pip', 'files']));
    expect(new Set(picked)).toEqual(new Set(ids(candidates)));
  });

  it('works on any score scale (RRF scores are tiny) because relevance is normalized', () => {
    const rrf = candidates.map((c, i) => ({ ...c, score: 1 / (60 + i + 1) }));
    expect(ids(maximalMarginalRelevance(rrf, 2, 0.5))).toEqual(['venv-1', 'pip']);
  });

  it('keeps the input order among equal candidates and never returns more than asked', () => {
    const same = [
      { id: 'x', score: 1, text: 'alpha beta' },
      { id: 'y', score: 1, text: 'gamma delta' },
    ];
    expect(ids(maximalMarginalRelevance(same, 1, 0.7))).toEqual(['x']);
    expect(maximalMarginalRelevance([], 3, 0.5)).toEqual([]);
  });
});
