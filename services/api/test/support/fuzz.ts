// The seeded random source of the API fuzz test (fuzz.int.test.ts) and the
// body generators it shares with support/fuzz-bodies.ts.

/** mulberry32: a tiny, good-enough 32-bit PRNG, so a seed replays the same requests. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Text PostgreSQL or Prisma cannot take as it is: NUL characters (text and
 * jsonb refuse them) and lone UTF-16 surrogates (Prisma's JSON protocol
 * refuses them). They only reach the server as JSON `\u` escapes: a lone
 * surrogate has no UTF-8 form on the wire.
 */
export const UNSTORABLE = ['\u0000', '\ud800', '\udfff', 'a\u0000b', 'x\udbffy', '\udc00\ud800', '\u0000\ud83d'] as const;

/** Seeded random choices and values. */
export class Fuzz {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** A string from an alphabet: ASCII, punctuation, control characters, Latin-1, astral unicode. */
  text(maxLen: number, alphabet: 'ascii' | 'unicode' | 'latin1' = this.pick(['ascii', 'unicode', 'latin1'] as const)): string {
    const len = this.int(0, maxLen);
    let out = '';
    for (let i = 0; i < len; i++) {
      if (alphabet === 'ascii') out += String.fromCharCode(this.int(0x20, 0x7e));
      else if (alphabet === 'latin1') out += String.fromCharCode(this.bool(0.7) ? this.int(0x20, 0x7e) : this.int(0x80, 0xff));
      else out += this.pick(['a', 'Z', '0', ' ', '"', '\\', '\u0000', '\n', '\u00e9', '\u4e2d', '\u{1f600}', '\ud800', '\u202e', '\ufeff', '%', '/', '..']);
    }
    return out;
  }
  /** Readable text with NUL characters and lone surrogates mixed in (never empty, never only them). */
  unstorable(): string {
    return `${this.pick(['Login', 'Export', 'Sync'])}${this.pick(UNSTORABLE)} fails${this.pick(UNSTORABLE)}${this.text(6, 'unicode')}`;
  }
  /** A random JSON value, sometimes nested deep, sometimes huge. */
  json(depth = 0): unknown {
    const kind = this.int(0, depth > 3 ? 5 : 7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.bool();
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 42]);
      case 3:
        return this.text(20);
      case 4:
        return this.bool(0.1) ? 'x'.repeat(this.int(3000, 9000)) : this.text(5, 'unicode');
      case 5:
        return this.pick(['http://example.com/', 'javascript:alert(1)', 'file:///etc/passwd', 'http://169.254.169.254/', '../../etc/passwd', '']);
      case 6:
        return Array.from({ length: this.int(0, 4) }, () => this.json(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: this.int(0, 4) }, () => [
            this.pick(['url', 'urls', 'query', 'texts', 'topK', '__proto__', 'constructor', 'a', this.text(8, 'ascii')]),
            this.json(depth + 1),
          ]),
        );
    }
  }
}
