import { RE2JS } from 're2js';

/**
 * `includePaths` / `excludePaths` of a crawl: regular expressions matched
 * (anywhere, so anchor with `^`) against a link's path, query included.
 * They are compiled by RE2JS, a port of RE2, whose matching is linear in
 * the input whatever the pattern (no backreferences or lookaround: a
 * pattern using them does not compile and is refused with a 400). A user's
 * pattern must never reach the backtracking `RegExp` (kbflow issue 14).
 */
export interface PathPatterns {
  include: RE2JS[];
  exclude: RE2JS[];
}

/** The longest pattern accepted, and how many of each kind (the API schema has the same bounds). */
export const MAX_PATH_PATTERN_LENGTH = 512;
export const MAX_PATH_PATTERNS = 50;

/** Why a pattern does not compile, or undefined when it does. */
export function pathPatternError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const compiled = new Map<string, RE2JS>();
const CACHE_SIZE = 1000;

/** Compiles a pattern, keeping the last {@link CACHE_SIZE} (every scrape job of a crawl carries the same ones). */
function compileCached(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, re);
  }
  return re;
}

/** Compiles validated patterns; throws on one that does not compile. */
export function compilePathPatterns(include: readonly string[] = [], exclude: readonly string[] = []): PathPatterns {
  return { include: include.map(compileCached), exclude: exclude.map(compileCached) };
}

/** Whether a URL's path (and query) passes: matches some include pattern (when there are any) and no exclude pattern. */
export function pathAllowed(url: URL, patterns: PathPatterns): boolean {
  const path = `${url.pathname}${url.search}`;
  if (patterns.include.length > 0 && !patterns.include.some((re) => re.test(path))) return false;
  return !patterns.exclude.some((re) => re.test(path));
}
