import { z } from 'zod';

/**
 * Case categorization by weighted keywords and phrases. The rules come from
 * configuration (KBFLOW_CASE_CATEGORIES_FILE, or the defaults in
 * case-categories.default.ts), so support teams tune them without a release.
 *
 * A term is one or more words, matched on word boundaries after both sides
 * are lower-cased and punctuation becomes spaces ("Wi-Fi" matches "wi fi").
 * A trailing `*` makes the last word a prefix: `crash*` matches crash,
 * crashes, crashed. Each term counts once per field it occurs in, times the
 * field's weight: a subject saying "Network problem" outweighs a description
 * that mentions a billing zip code in passing.
 */

const SLUG = /^[a-z][a-z0-9_-]{0,39}$/;
const categoryName = z.string().regex(SLUG, 'must be a lowercase name: letters, digits, - and _');

/** A term as matched: lower-case words separated by single spaces, maybe ending in `*`. */
export function normalizeTerm(term: string): string {
  const prefix = term.trim().endsWith('*');
  // normalizeText drops the `*` itself (it keeps letters and digits only).
  const words = normalizeText(term);
  return words === '' ? '' : `${words}${prefix ? '*' : ''}`;
}

/** Text as terms are matched against it: lower case, letters and digits only, single spaces. */
function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const term = z
  .string()
  .max(100)
  .refine((t) => normalizeTerm(t) !== '', 'must contain a letter or digit');

/** The configuration file's shape (JSON). */
const caseCategoryRulesSchema = z.strictObject({
  /** The score a category needs; below it (or with no match) the case gets `fallback`. */
  minScore: z.number().positive().default(1),
  /** How much a match in each field counts. */
  fieldWeights: z
    .strictObject({
      subject: z.number().min(0).max(100),
      description: z.number().min(0).max(100),
      resolution: z.number().min(0).max(100),
    })
    .default({ subject: 3, description: 1, resolution: 0.5 }),
  /** The category of a case no rule matches. */
  fallback: categoryName.default('other'),
  /** Category -> term -> weight. On equal scores the category listed first wins. */
  categories: z
    .record(categoryName, z.record(term, z.number().positive().max(100)))
    .refine((c) => Object.keys(c).length > 0, 'must name at least one category')
    .refine((c) => Object.values(c).every((terms) => Object.keys(terms).length > 0), 'every category needs at least one term'),
});

type CaseCategoryRules = z.output<typeof caseCategoryRulesSchema>;
export type CaseCategoryRulesInput = z.input<typeof caseCategoryRulesSchema>;

interface CompiledTerm {
  /** What `includes` looks for in the space-padded text. */
  needle: string;
  weight: number;
}

/** Rules prepared for matching; build once with {@link compileCategoryRules}. */
export interface CompiledCategoryRules {
  minScore: number;
  fallback: string;
  fieldWeights: CaseCategoryRules['fieldWeights'];
  categories: { name: string; terms: CompiledTerm[] }[];
}

/** Validates raw rules (throws a ZodError) and prepares them for {@link categorizeCase}. */
export function compileCategoryRules(input: unknown): CompiledCategoryRules {
  const rules = caseCategoryRulesSchema.parse(input);
  return {
    minScore: rules.minScore,
    fallback: rules.fallback,
    fieldWeights: rules.fieldWeights,
    categories: Object.entries(rules.categories).map(([name, terms]) => ({
      name,
      terms: Object.entries(terms).map(([raw, weight]) => {
        const t = normalizeTerm(raw);
        // " word " for whole words; " word" for a prefix: the text is padded with spaces.
        return { needle: t.endsWith('*') ? ` ${t.slice(0, -1)}` : ` ${t} `, weight };
      }),
    })),
  };
}

export interface CategorizeInput {
  subject: string;
  description: string;
  resolution?: string;
}

export interface Categorization {
  category: string;
  /** The winning category's score (0 when the fallback was chosen for lack of matches). */
  score: number;
  /** Every category's score, for explaining a choice. */
  scores: Record<string, number>;
}

/**
 * Bounds the text looked at: a pasted log of megabytes says little more
 * about the category than its first pages, and matching stays fast.
 */
const MAX_FIELD_CHARS = 20_000;

/** The category of a case under the rules: the highest score at or above `minScore`, else the fallback. */
export function categorizeCase(input: CategorizeInput, rules: CompiledCategoryRules): Categorization {
  const fields = [
    { text: input.subject, weight: rules.fieldWeights.subject },
    { text: input.description, weight: rules.fieldWeights.description },
    { text: input.resolution ?? '', weight: rules.fieldWeights.resolution },
  ]
    .filter((f) => f.weight > 0 && f.text !== '')
    .map((f) => ({ padded: ` ${normalizeText(f.text.slice(0, MAX_FIELD_CHARS))} `, weight: f.weight }));

  const scores: Record<string, number> = {};
  let best = { category: rules.fallback, score: 0 };
  for (const category of rules.categories) {
    let score = 0;
    for (const t of category.terms) {
      for (const field of fields) if (field.padded.includes(t.needle)) score += t.weight * field.weight;
    }
    scores[category.name] = score;
    if (score >= rules.minScore && score > best.score) best = { category: category.name, score };
  }
  return { ...best, scores };
}
