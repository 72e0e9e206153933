// Hand-written: the Ragas exports store a question's contexts as the Python
// `repr()` of a list of strings, and no maintained npm package parses Python
// literals. The grammar needed is small (a list of str literals), and anything
// outside it is refused rather than guessed at.

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * Parses the Python `repr()` of a list of strings, e.g. `['a', "b's"]`:
 * single- or double-quoted literals with Python's backslash escapes
 * (`\\ \' \" \n \t \r \xNN \uNNNN \UNNNNNNNN` ...), separated by commas.
 *
 * @throws SyntaxError naming the offset when the text is anything else.
 */
export function parsePythonStringList(text: string): string[] {
  const fail = (at: number, what: string): never => {
    throw new SyntaxError(`not a Python list of strings: ${what} at offset ${at}`);
  };
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skipSpace();
  if (text[i] !== '[') fail(i, "expected '['");
  i++;
  const items: string[] = [];
  skipSpace();
  if (text[i] === ']') return finish(items, i + 1);
  for (;;) {
    skipSpace();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') fail(i, 'expected a quoted string');
    i++;
    let value = '';
    for (;;) {
      if (i >= text.length) fail(i, 'unterminated string');
      const c = text[i]!;
      if (c === quote) break;
      if (c !== '\\') {
        value += c;
        i++;
        continue;
      }
      const e = text[i + 1] ?? '';
      if (e in SIMPLE_ESCAPES) {
        value += SIMPLE_ESCAPES[e];
        i += 2;
      } else if (e in HEX_ESCAPES) {
        const digits = text.slice(i + 2, i + 2 + HEX_ESCAPES[e]!);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== HEX_ESCAPES[e]) fail(i, `bad \\${e} escape`);
        value += String.fromCodePoint(Number.parseInt(digits, 16));
        i += 2 + digits.length;
      } else {
        // Python keeps an unknown escape as written (backslash included).
        value += c;
        i++;
      }
    }
    items.push(value);
    i++;
    skipSpace();
    if (text[i] === ',') {
      i++;
      skipSpace();
      if (text[i] === ']') return finish(items, i + 1);
      continue;
    }
    if (text[i] === ']') return finish(items, i + 1);
    fail(i, "expected ',' or ']'");
  }

  function finish(result: string[], end: number): string[] {
    if (text.slice(end).trim() !== '') fail(end, 'text after the list');
    return result;
  }
}
