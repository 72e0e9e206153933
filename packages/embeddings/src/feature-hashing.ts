/**
 * FNV-1a over UTF-16 code units, continuing from `hash`. Chosen because it is
 * a few lines with no table, hashes a substring without slicing it, and can
 * be continued (a bigram is word, space, word, with no concatenated string).
 * Its low bits mix poorly, which {@link finalizeHash} repairs.
 */
export function fnv1a(hash: number, text: string, start = 0, end = text.length): number {
  let h = hash;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** Continues an FNV-1a hash with one code unit. */
export function fnv1aCode(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

/** MurmurHash3's fmix32: spreads every input bit over the bucket and sign bits; unsigned result. */
export function finalizeHash(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Counts occurrences of 32-bit feature hashes. An open-addressing table on
 * typed arrays, reused across texts: a `Map` here cost a third of the
 * embedder's time and most of its garbage.
 */
export class FeatureCounter {
  #keys = new Uint32Array(1024);
  #counts = new Uint32Array(1024);
  #used = new Int32Array(512);
  #size = 0;

  /** Adds one occurrence of an already finalized (well mixed) hash. */
  add(hash: number): void {
    const keys = this.#keys;
    const counts = this.#counts;
    const mask = keys.length - 1;
    let slot = hash & mask;
    while (counts[slot] !== 0 && keys[slot] !== hash) slot = (slot + 1) & mask;
    if (counts[slot] === 0) {
      keys[slot] = hash;
      this.#used[this.#size++] = slot;
      counts[slot] = 1;
      if (this.#size * 2 >= keys.length) this.#grow();
      return;
    }
    counts[slot]! += 1;
  }

  /** Number of distinct hashes counted since the last {@link clear}. */
  get size(): number {
    return this.#size;
  }

  /** Calls `fn(hash, count)` for every distinct hash, in insertion order. */
  forEach(fn: (hash: number, count: number) => void): void {
    for (let i = 0; i < this.#size; i++) {
      const slot = this.#used[i]!;
      fn(this.#keys[slot]!, this.#counts[slot]!);
    }
  }

  /** Forgets all counts; touches only the used slots. */
  clear(): void {
    for (let i = 0; i < this.#size; i++) this.#counts[this.#used[i]!] = 0;
    this.#size = 0;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldCounts = this.#counts;
    const oldUsed = this.#used;
    const size = this.#size;
    this.#keys = new Uint32Array(oldKeys.length * 2);
    this.#counts = new Uint32Array(oldKeys.length * 2);
    this.#used = new Int32Array(oldKeys.length);
    this.#size = 0;
    const mask = this.#keys.length - 1;
    for (let i = 0; i < size; i++) {
      const hash = oldKeys[oldUsed[i]!]!;
      let slot = hash & mask;
      while (this.#counts[slot] !== 0) slot = (slot + 1) & mask;
      this.#keys[slot] = hash;
      this.#counts[slot] = oldCounts[oldUsed[i]!]!;
      this.#used[this.#size++] = slot;
    }
  }
}
