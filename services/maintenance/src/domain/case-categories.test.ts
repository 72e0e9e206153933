import { describe, expect, it } from '@jest/globals';
import { ZodError } from 'zod';
import { categorizeCase, compileCategoryRules, normalizeTerm } from './case-categories.ts';
import { DEFAULT_CASE_CATEGORY_RULES } from './case-categories.default.ts';

const defaults = compileCategoryRules(DEFAULT_CASE_CATEGORY_RULES);
const category = (subject: string, description = '', resolution = '') => categorizeCase({ subject, description, resolution }, defaults).category;

describe('categorizeCase with the default rules', () => {
  it.each([
    ['Battery life', 'The battery drains within two hours of a full charge.', 'hardware'],
    ['Network problem', 'The router drops the wifi connection every few minutes.', 'network'],
    ['Software bug', 'The app crashes with an exception when I open settings.', 'software'],
    ['Refund request', 'I was charged twice for my order, please refund one payment.', 'billing'],
    ['Account access', 'I am locked out and the reset password email never arrives.', 'account'],
    ['Suspicious activity', 'Someone hacked my account and there was unauthorized access from abroad.', 'security'],
    ['Everything is slow', 'The dashboard is sluggish and CPU usage stays at 100% with a memory leak.', 'performance'],
  ])('puts "%s" under its category', (subject, description, expected) => {
    expect(category(subject, description)).toBe(expected);
  });

  it('falls back to other when no rule reaches the minimum score', () => {
    const result = categorizeCase({ subject: 'Product recommendation', description: 'Which colour would you suggest for a gift?' }, defaults);
    expect(result).toMatchObject({ category: 'other', score: 0 });
  });

  it('weighs the subject above a passing mention in the description', () => {
    // "billing zip code" is boilerplate in many tickets; the subject decides.
    expect(category('Display issue', 'Your billing zip code is 71701. The screen flickers.')).toBe('hardware');
  });

  it('matches whole words only, and prefixes where a term ends in *', () => {
    expect(category('Routing table question', 'about a "routed" tree')).toBe('other');
    expect(category('It crashed again', 'crashes on start, crashing since update')).toBe('software');
  });

  it('matches phrases across punctuation and case', () => {
    expect(category('WI-FI keeps dropping')).toBe('network');
    expect(category('My laptop is NOT turning on!!')).toBe('hardware');
  });
});

describe('compileCategoryRules', () => {
  it('accepts a minimal file and fills in the defaults', () => {
    const rules = compileCategoryRules({ categories: { printers: { 'paper jam': 2, toner: 1 } } });
    expect(rules).toMatchObject({ minScore: 1, fallback: 'other', fieldWeights: { subject: 3, description: 1, resolution: 0.5 } });
    expect(categorizeCase({ subject: 'Paper jam in tray 2', description: '' }, rules)).toMatchObject({ category: 'printers', score: 6 });
  });

  it('breaks ties in favour of the category listed first', () => {
    const rules = compileCategoryRules({ categories: { first: { disk: 1 }, second: { disk: 1 } } });
    expect(categorizeCase({ subject: 'disk', description: '' }, rules).category).toBe('first');
  });

  it.each([
    [{ categories: {} }, 'categories'],
    [{ categories: { 'Not A Slug': { x: 1 } } }, 'categories.Not A Slug'],
    [{ categories: { ok: { x: -1 } } }, 'categories.ok.x'],
    [{ categories: { ok: { '!!!': 1 } } }, 'categories.ok.!!!'],
    [{ categories: { ok: { x: 1 } }, minScore: 0 }, 'minScore'],
    [{ categories: { ok: { x: 1 } }, colours: true }, ''],
  ])('rejects a bad rules file (%j) naming where it is wrong', (input, path) => {
    let error: unknown;
    try {
      compileCategoryRules(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZodError);
    expect((error as ZodError).issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('normalizeTerm', () => {
  it('lower-cases, turns punctuation into single spaces and keeps a trailing *', () => {
    expect(normalizeTerm('  Wi-Fi  Router* ')).toBe('wi fi router*');
    expect(normalizeTerm('C++')).toBe('c');
    expect(normalizeTerm('***')).toBe('');
  });
});
