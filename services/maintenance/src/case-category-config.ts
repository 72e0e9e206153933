import { readFileSync } from 'node:fs';
import { EnvError } from '@kbflow/config';
import { ZodError } from 'zod';
import { compileCategoryRules, type CompiledCategoryRules } from './domain/case-categories.ts';
import { DEFAULT_CASE_CATEGORY_RULES } from './domain/case-categories.default.ts';

const CASE_CATEGORIES_VARIABLE = 'KBFLOW_CASE_CATEGORIES_FILE';

/**
 * The categorization rules: the JSON file named by KBFLOW_CASE_CATEGORIES_FILE,
 * or the built-in defaults when it is unset. Returns the problems instead of
 * throwing, one line each (JSON path: message), so env.ts can list them with
 * every other bad variable.
 */
export function readCaseCategoryRules(path: string | undefined): { ok: true; rules: CompiledCategoryRules } | { ok: false; problems: string[] } {
  if (path === undefined) return { ok: true, rules: compileCategoryRules(DEFAULT_CASE_CATEGORY_RULES) };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? `is not valid JSON (${error.message})`
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    return { ok: false, problems: [`${path} ${reason}`] };
  }
  try {
    return { ok: true, rules: compileCategoryRules(raw) };
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    return { ok: false, problems: error.issues.map((i) => `${path}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`) };
  }
}

/** {@link readCaseCategoryRules}, throwing the EnvError start-up reports (naming the variable) on a bad file. */
export function loadCaseCategoryRules(path: string | undefined): CompiledCategoryRules {
  const read = readCaseCategoryRules(path);
  if (!read.ok) throw new EnvError(read.problems.map((p) => `${CASE_CATEGORIES_VARIABLE}: ${p}`));
  return read.rules;
}
