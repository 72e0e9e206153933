import { describe, expect, it } from '@jest/globals';
import { forEachToken, stemPlural } from './tokenize.ts';

function tokens(text: string): [string[], string | undefined][] {
  const out: [string[], string | undefined][] = [];
  forEachToken(text, (parts, whole) => out.push([parts, whole]));
  return out;
}

describe('forEachToken', () => {
  it('lower-cases plain words and skips punctuation', () => {
    expect(tokens('Hello, World! 42 times.')).toEqual([
      [['hello'], undefined],
      [['world'], undefined],
      [['42'], undefined],
      [['times'], undefined],
    ]);
  });

  it('splits identifiers into parts and keeps them whole', () => {
    expect(tokens('str.split snake_case getUserName XMLHttpRequest BullMQ v1.2')).toEqual([
      [['str', 'split'], 'str.split'],
      [['snake', 'case'], 'snake_case'],
      [['get', 'user', 'name'], 'getusername'],
      [['xml', 'http', 'request'], 'xmlhttprequest'],
      [['bull', 'mq'], 'bullmq'],
      [['v1', '2'], 'v1.2'],
    ]);
  });

  it('drops apostrophes inside words and does not join across trailing separators', () => {
    expect(tokens("don't it’s end. (x--y) a/")).toEqual([
      [['dont'], undefined],
      [['its'], undefined],
      [['end'], undefined],
      [['x'], undefined],
      [['y'], undefined],
      [['a'], undefined],
    ]);
  });

  it('reads letters of any script, including ones outside the BMP', () => {
    expect(tokens('Café naïve 日本語 Ελληνικά 𝐀𝐁 😀 x')).toEqual([
      [['café'], undefined],
      [['naïve'], undefined],
      [['日本語'], undefined],
      [['ελληνικά'], undefined],
      [['ab'], undefined],
      [['x'], undefined],
    ]);
  });
});

describe('stemPlural', () => {
  it('folds regular plurals and leaves singular-looking words alone', () => {
    expect(['queries', 'jobs', 'queues', 'status', 'class', 'bus', 'is', 'heroes'].map(stemPlural)).toEqual([
      'query',
      'job',
      'queue',
      'status',
      'class',
      'bus',
      'is',
      'heroe',
    ]);
  });
});
