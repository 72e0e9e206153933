import { describe, expect, it } from '@jest/globals';
import { parsePythonStringList } from './python-literal.ts';

describe('parsePythonStringList', () => {
  it('reads single- and double-quoted items with Python escapes', () => {
    expect(parsePythonStringList(`['it\\'s', "say \\"hi\\"", 'a\\\\b', 'line\\nnext\\ttab', '\\x41\\u00e9\\U0001F600']`)).toEqual([
      "it's",
      'say "hi"',
      'a\\b',
      'line\nnext\ttab',
      'Aé😀',
    ]);
  });

  it('keeps an unknown escape as written, like Python', () => {
    expect(parsePythonStringList(`['C:\\path']`)).toEqual(['C:\\path']);
  });

  it('reads an empty list and a trailing comma', () => {
    expect(parsePythonStringList('[]')).toEqual([]);
    expect(parsePythonStringList(" [ 'a' , ] ")).toEqual(['a']);
  });

  it.each([
    ['a JSON object', '{"a": 1}', "expected '['"],
    ['a number item', '[1]', 'expected a quoted string'],
    ['an unterminated string', "['abc", 'unterminated string'],
    ['a missing comma', "['a' 'b']", "expected ',' or ']'"],
    ['text after the list', "['a'] x", 'text after the list'],
    ['a short \\x escape', "['\\x4']", 'bad \\x escape'],
  ])('refuses %s', (_, text, message) => {
    expect(() => parsePythonStringList(text)).toThrow(message);
  });
});
