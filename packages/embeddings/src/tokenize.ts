const WORD_CHAR_RE = /[\p{L}\p{M}\p{N}]/u;
const CAMEL_TEST_RE = /\p{Ll}\p{Lu}|\p{Lu}\p{Lu}\p{Ll}/u;
const CAMEL_SPLIT_RE = /(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
const SEPARATOR_RE = /[._\-/:]/;
const APOSTROPHE_RE = /['’]/g;

// Character classes of the ASCII range, looked up instead of a Unicode regex:
// the regex tokenizer was a third of the embedder's time.
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 97; c <= 122; c++) ASCII_CLASS[c] = LOWER;
for (let c = 65; c <= 90; c++) ASCII_CLASS[c] = UPPER;
for (let c = 48; c <= 57; c++) ASCII_CLASS[c] = DIGIT;

/** Joins word runs into one token when it stands between them: `str.split`, `snake_case`, `v1.2`, `a/b`, `don't`. */
function isJoiner(code: number): boolean {
  return code === 46 || code === 95 || code === 45 || code === 47 || code === 58 || code === 39 || code === 0x2019;
}

/** Letters, marks and digits of any script (code points above the BMP included). */
function isWordAt(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 128) return ASCII_CLASS[code] !== OTHER;
  return WORD_CHAR_RE.test(String.fromCodePoint(text.codePointAt(i)!));
}

/** A small English stopword list: function words that carry no topic. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her ' +
    'here hers him his how i if in into is it its itself just me more most my no nor not of off on once only or ' +
    'other our ours out over own same she should so some such than that the their theirs them then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why ' +
    'will with would you your yours s t'
  ).split(' '),
);

/**
 * Calls `onToken` for every token of NFKC-normalized `text`, with its
 * lower-cased parts: `str.split` -> [str, split], `getUserName` ->
 * [get, user, name], `BullMQ` -> [bull, mq], `don't` -> [dont]. `whole` is
 * the lower-cased token when it has more than one part, else undefined.
 * Tokens are runs of Unicode letters, marks and digits.
 */
export function forEachToken(text: string, onToken: (parts: string[], whole: string | undefined) => void): void {
  const source = text.normalize('NFKC');
  const n = source.length;
  let i = 0;
  while (i < n) {
    if (!isWordAt(source, i)) {
      i++;
      continue;
    }
    const start = i;
    // Whether the cheap path (one lower-cased part) is safe: set by anything
    // non-ASCII, upper-case or a joiner, which take the general path.
    let simple = true;
    while (i < n) {
      const code = source.charCodeAt(i);
      if (code < 128) {
        const kind = ASCII_CLASS[code]!;
        if (kind !== OTHER) {
          if (kind === UPPER) simple = false;
          i++;
          continue;
        }
        if (isJoiner(code) && i + 1 < n && isWordAt(source, i + 1)) {
          simple = false;
          i++;
          continue;
        }
        break;
      }
      if (code === 0x2019 && i + 1 < n && isWordAt(source, i + 1)) {
        simple = false;
        i++;
        continue;
      }
      if (!isWordAt(source, i)) break;
      simple = false;
      i += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    }
    const token = source.slice(start, i);
    if (simple) {
      onToken([token], undefined);
      continue;
    }
    const joined = token.includes("'") || token.includes('’') ? token.replace(APOSTROPHE_RE, '') : token;
    const parts = splitParts(joined);
    onToken(parts, parts.length > 1 ? joined.toLowerCase() : undefined);
  }
}

function splitParts(token: string): string[] {
  const segments = SEPARATOR_RE.test(token) ? token.split(SEPARATOR_RE) : [token];
  const parts: string[] = [];
  for (const segment of segments) {
    if (CAMEL_TEST_RE.test(segment)) {
      for (const piece of segment.split(CAMEL_SPLIT_RE)) parts.push(piece.toLowerCase());
    } else {
      parts.push(segment.toLowerCase());
    }
  }
  return parts;
}

/** Harman's S-stemmer: folds plurals (`queries` -> `query`, `jobs` -> `job`) and nothing more. */
export function stemPlural(word: string): string {
  const n = word.length;
  if (n <= 3 || word.charCodeAt(n - 1) !== 115 /* s */) return word;
  if (word.endsWith('ies') && !word.endsWith('eies') && !word.endsWith('aies')) return word.slice(0, -3) + 'y';
  if (word.endsWith('es') && !word.endsWith('aes') && !word.endsWith('ees') && !word.endsWith('oes')) {
    return word.slice(0, -1);
  }
  if (word.endsWith('us') || word.endsWith('ss')) return word;
  return word.slice(0, -1);
}
